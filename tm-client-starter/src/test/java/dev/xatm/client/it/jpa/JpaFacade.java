package dev.xatm.client.it.jpa;

import dev.xatm.client.GlobalTransactional;
import dev.xatm.client.it.jpa.orders.OrderNote;
import dev.xatm.client.it.jpa.orders.OrderNotes;
import org.springframework.transaction.annotation.Transactional;

/** Methods that call {@link JpaWork} across a bean boundary, in both orders of the two annotations. */
class JpaFacade {
    private final JpaWork work;
    private final OrderNotes orders;

    JpaFacade(JpaWork work, OrderNotes orders) {
        this.work = work;
        this.orders = orders;
    }

    /** The documented order: the global transaction outside, the local @Transactional method inside. */
    @GlobalTransactional
    public void globalAroundLocal(long order, long item, boolean fail) {
        work.locally(order, item);
        JpaWork.failIf(fail);
    }

    /**
     * The wrong order: a local JPA transaction on the orders unit (it writes first, as a facade
     * would), then a new global transaction. Afterwards the local transaction rolls back on its own,
     * as it would after any failure of the facade.
     */
    @Transactional("ordersTx")
    public void localAroundGlobal(long before, long order, long item) {
        orders.save(new OrderNote(before, "before"));
        orders.flush();
        work.save(order, item, false);
        throw new IllegalStateException("the facade fails after the global transaction returned");
    }
}
