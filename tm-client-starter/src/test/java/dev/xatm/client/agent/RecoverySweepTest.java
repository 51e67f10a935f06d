package dev.xatm.client.agent;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The periodic recovery sweep, on a stub resource manager and a hand-moved clock: a prepared branch
 * of ours that nobody here holds is asked about only once it has been listed for the safety interval
 * (a branch between PREPARE and its decision is never touched), a held one or a foreign one never,
 * and the next sweep comes early when a safety interval ends before the regular interval.
 */
class RecoverySweepTest {
    static final long INTERVAL = 30_000;
    static final long SAFETY = 5_000;
    final StubResourceManager rm = new StubResourceManager();
    final AtomicLong clock = new AtomicLong(1_000_000_000L);
    final List<TmXid> asked = new CopyOnWriteArrayList<>();
    final AtomicInteger sweeps = new AtomicInteger();
    final AtomicInteger settled = new AtomicInteger();
    HikariDataSource pool;
    RecoverySweep sweep;
    Set<TmXid> held = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @BeforeEach
    void setUp() {
        pool = new HikariDataSource();
        pool.setJdbcUrl("jdbc:h2:mem:sweep" + System.nanoTime());
        pool.setMaximumPoolSize(2);
        EnlistedResource r = new EnlistedResource("stub", pool.getJdbcUrl(), rm.dialect(), pool, null);
        Recoverer recoverer = new Recoverer(() -> List.of(r),
                () -> new RecoveryFilter("xatm", java.util.Optional.of(new dev.xatm.protocol.ClusterId("test1234")), false));
        sweep = new RecoverySweep(() -> List.of(r), recoverer, held::contains, (xid, resourceId) -> asked.add(xid),
                INTERVAL, SAFETY, clock::get, new AgentListener() {
                    @Override
                    public void recoverySweep() {
                        sweeps.incrementAndGet();
                    }

                    @Override
                    public void settledByRecovery(String source) {
                        if (source.equals("sweep")) {
                            settled.incrementAndGet();
                        }
                    }
                });
    }

    @AfterEach
    void tearDown() {
        pool.close();
    }

    void advance(long millis) {
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    @Test
    void anUnheldBranchIsAskedAboutOnlyAfterTheSafetyInterval() {
        TmXid orphan = new TmXid("xatm:test1234-gone.1", "b1");
        rm.prepareOrphan(orphan);

        assertThat(sweep.sweep()).isZero();
        assertThat(sweep.nextDelayMillis()).as("the next sweep comes when its safety interval ends").isEqualTo(SAFETY);
        advance(SAFETY - 1);
        assertThat(sweep.sweep()).isZero();
        assertThat(asked).isEmpty();
        advance(1);
        assertThat(sweep.sweep()).isEqualTo(1);
        assertThat(asked).containsExactly(orphan);
        assertThat(sweeps).hasValue(3);
        assertThat(sweep.nextDelayMillis()).isEqualTo(INTERVAL);

        sweep.settled(orphan);
        assertThat(settled).hasValue(1);
        sweep.settled(orphan);
        assertThat(settled).as("counted once").hasValue(1);
    }

    @Test
    void heldAndForeignBranchesAreNeverAskedAbout() {
        TmXid mine = new TmXid("xatm:test1234-held.1", "b1");
        TmXid foreign = new TmXid("other:app.1", "b1");
        TmXid otherDeployment = new TmXid("xatm:othr5678-app.1", "b1");
        held.add(mine);
        rm.prepareOrphan(mine);
        rm.prepareOrphan(foreign);
        rm.prepareOrphan(otherDeployment);

        sweep.sweep();
        advance(SAFETY * 10);
        sweep.sweep();

        assertThat(asked).isEmpty();
        assertThat(sweep.watched()).isZero();
    }

    /** A branch that disappears before its safety interval ends (its holder finished it) is forgotten, and one listed again starts over. */
    @Test
    void aBranchThatGoesAwayIsForgotten() {
        TmXid passing = new TmXid("xatm:test1234-passing.1", "b1");
        rm.prepareOrphan(passing);
        sweep.sweep();
        assertThat(sweep.watched()).isEqualTo(1);

        rm.finishElsewhere(passing); // its holder, another instance, committed it
        advance(SAFETY - 1);
        sweep.sweep();
        assertThat(sweep.watched()).isZero();

        rm.prepareOrphan(passing);
        sweep.sweep();
        advance(SAFETY - 1);
        sweep.sweep();
        assertThat(asked).as("listed again: its safety interval starts over").isEmpty();
    }
}
