package dev.xatm.client.it.jpa;

import dev.xatm.client.GlobalTransactionTemplate;
import dev.xatm.client.GlobalTransactional;
import dev.xatm.client.it.jpa.orders.OrderNote;
import dev.xatm.client.it.jpa.orders.OrderNotes;
import dev.xatm.client.it.jpa.stock.StockNote;
import dev.xatm.client.it.jpa.stock.StockNotes;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import org.springframework.transaction.annotation.Transactional;

/** Business methods of the JPA tests; each is called through its Spring proxy. */
class JpaWork {
    static final String FAILURE = "business failure after the writes";

    private final OrderNotes orders;
    private final StockNotes stock;
    @PersistenceContext(unitName = "orders")
    private EntityManager ordersEm;

    JpaWork(OrderNotes orders, StockNotes stock) {
        this.orders = orders;
        this.stock = stock;
    }

    /** Each repository call is its own JpaTransactionManager transaction, inside the global one. */
    @GlobalTransactional
    public String save(long order, long item, boolean fail) {
        orders.save(new OrderNote(order, "order"));
        stock.save(new StockNote(item, "stock"));
        failIf(fail);
        return GlobalTransactionTemplate.currentGtrid();
    }

    /** The same with saveAndFlush: the INSERTs reach both databases before the failure. */
    @GlobalTransactional
    public void saveAndFlush(long order, long item, boolean fail) {
        orders.saveAndFlush(new OrderNote(order, "order"));
        stock.saveAndFlush(new StockNote(item, "stock"));
        failIf(fail);
    }

    /**
     * Both annotations on one method: the starter's advisor runs outside spring-tx's, so the local
     * JPA transaction (the orders unit's EntityManager, flushed at its commit) runs inside the global one.
     */
    @GlobalTransactional
    @Transactional("ordersTx")
    public void besideEachOther(long order, long item, boolean fail) {
        ordersEm.persist(new OrderNote(order, "order"));
        stock.save(new StockNote(item, "stock"));
        failIf(fail);
    }

    /** A local JPA transaction on the orders unit, called from inside a global one. */
    @Transactional("ordersTx")
    public void locally(long order, long item) {
        ordersEm.persist(new OrderNote(order, "order"));
        stock.save(new StockNote(item, "stock"));
    }

    static void failIf(boolean fail) {
        if (fail) {
            throw new IllegalStateException(FAILURE);
        }
    }
}
