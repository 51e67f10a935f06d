package dev.xatm.outbox.relay;

import dev.xatm.outbox.OutboxMessage;
import dev.xatm.outbox.store.OutboxStore;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * One relay pass over one data source's outbox, in one local transaction (READ COMMITTED):
 *
 * <ol>
 *   <li>claim: lock up to {@code batchSize} unsent rows, lowest seq first, SKIP LOCKED (rows other
 *       instances' relays hold are passed over, not waited for);</li>
 *   <li>plan: read the unsent seqs of the claimed keys and keep only the rows no earlier unsent row
 *       of their key precedes elsewhere ({@link ClaimPlan});</li>
 *   <li>publish them in seq order and wait for the broker's confirms;</li>
 *   <li>mark them sent and commit.</li>
 * </ol>
 *
 * A failure anywhere rolls the transaction back: the rows stay unsent and the next pass (here or in
 * another instance) sends them again. A crash after step 3 and before the commit in step 4 is the
 * one way to deliver a message twice; consumers deduplicate by message id (the inbox).
 *
 * <p>READ COMMITTED because under InnoDB's default REPEATABLE READ a locking scan also locks the
 * gaps between rows, which would block the application's inserts into the outbox while a batch is
 * at the broker. Not thread-safe: one loop drives it.
 */
public final class Relay {
    /** What one pass did. */
    public record Pass(int claimed, int sent, int heldBack) {
        static final Pass EMPTY = new Pass(0, 0, 0);
    }

    private final String name;
    private final DataSource dataSource;
    private final OutboxStore store;
    private final BrokerPublisher publisher;
    private final int batchSize;
    private final RelayHook hook;
    private final RelayObserver observer;

    public Relay(String name, DataSource dataSource, OutboxStore store, BrokerPublisher publisher, int batchSize,
                 RelayHook hook, RelayObserver observer) {
        if (batchSize < 1 || batchSize > 1000) {
            throw new IllegalArgumentException("relay batch size must be 1..1000, not " + batchSize);
        }
        this.name = name;
        this.dataSource = dataSource;
        this.store = store;
        this.publisher = publisher;
        this.batchSize = batchSize;
        this.hook = hook;
        this.observer = observer;
    }

    public String name() {
        return name;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Tells the observer that a pass failed (the loop calls this). */
    void failed(Exception e) {
        observer.failed(name, e);
    }

    public Pass runOnce() throws SQLException, BrokerException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            Done done;
            try {
                done = claimPublishMark(c);
                c.commit();
            } catch (SQLException | BrokerException | RuntimeException e) {
                rollbackQuietly(c, e);
                throw e;
            }
            // only now is "sent" durable: report after the commit
            for (OutboxMessage m : done.sent()) {
                observer.sent(name, m.ageMillis() + done.confirmedMillis());
            }
            return done.pass();
        }
    }

    private record Done(Pass pass, List<OutboxMessage> sent, long confirmedMillis) {}

    private Done claimPublishMark(Connection c) throws SQLException, BrokerException {
        long claimedNanos = System.nanoTime();
        List<OutboxMessage> claimed = store.claim(c, batchSize);
        if (claimed.isEmpty()) {
            return new Done(Pass.EMPTY, List.of(), 0);
        }
        Set<String> keys = new LinkedHashSet<>();
        long maxSeq = Long.MIN_VALUE;
        for (OutboxMessage m : claimed) {
            keys.add(m.key());
            maxSeq = Math.max(maxSeq, m.seq());
        }
        Map<String, TreeSet<Long>> unsent = store.unsentSeqs(c, keys, maxSeq);
        ClaimPlan plan = ClaimPlan.of(claimed, unsent);
        if (plan.sendable().isEmpty()) {
            return new Done(new Pass(claimed.size(), 0, plan.heldBack().size()), List.of(), 0);
        }
        publisher.publish(plan.sendable());
        long confirmedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - claimedNanos);
        hook.afterPublish(plan.sendable());
        List<Long> seqs = plan.sendable().stream().map(OutboxMessage::seq).toList();
        int marked = store.markSent(c, seqs);
        if (marked != seqs.size()) {
            // we hold the locks on these rows, so nobody else can have marked them: a broken invariant
            throw new IllegalStateException("relay '" + name + "' marked " + marked + " of " + seqs.size() + " claimed rows sent");
        }
        return new Done(new Pass(claimed.size(), seqs.size(), plan.heldBack().size()), plan.sendable(), confirmedMillis);
    }

    private static void rollbackQuietly(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }
}
