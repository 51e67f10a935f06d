package dev.xatm.client.support;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.GlobalRollbackException;
import dev.xatm.client.GlobalTimeoutException;
import dev.xatm.client.GlobalTransactionCallback;
import dev.xatm.client.GlobalTransactionDefinition;
import dev.xatm.client.GlobalTransactionStatus;
import dev.xatm.client.HeuristicOutcomeException;
import dev.xatm.client.Propagation;
import dev.xatm.client.TmUsageException;
import dev.xatm.client.context.Observed;
import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import dev.xatm.client.coordinator.CoordinatorAccess;
import dev.xatm.client.coordinator.OutcomeReport;
import dev.xatm.protocol.XidMdc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.Optional;

/**
 * The machinery behind {@code @GlobalTransactional} and {@code GlobalTransactionTemplate}: applies
 * the propagation decision, begins, binds, and ends global transactions through the
 * {@link CoordinatorAccess}. Like spring-tx's AbstractPlatformTransactionManager it is not meant to
 * be called by application code. Thread-safe; all per-transaction state lives in the bound
 * {@link TxScope}.
 *
 * <p>Ending: the scope is unbound and its branches released first (so the agent may prepare them),
 * then the coordinator is asked to commit or roll back. After an exception the original exception
 * always wins; a failure to roll back is attached to it as suppressed (spring-tx does the same).
 */
public final class GlobalTransactionManager {
    private static final Logger log = LoggerFactory.getLogger(GlobalTransactionManager.class);

    private final CoordinatorAccess coordinator;
    private final GtridMinter gtrids;
    private final long defaultTimeoutMillis;
    private final boolean waitForCompletion;
    private final TxMetrics metrics;
    /** Empty: every transaction is begun at the coordinator and its branches registered (tm.client.commit-path=strict). */
    private final Optional<OneRoundTripCommit> oneRoundTrip;
    /** Asked before every new global transaction; refuses one that part of its work would silently escape. */
    private final BeginGuard beginGuard;

    public GlobalTransactionManager(CoordinatorAccess coordinator, GtridMinter gtrids, long defaultTimeoutMillis,
                                    boolean waitForCompletion, TxMetrics metrics) {
        this(coordinator, gtrids, defaultTimeoutMillis, waitForCompletion, metrics, null);
    }

    public GlobalTransactionManager(CoordinatorAccess coordinator, GtridMinter gtrids, long defaultTimeoutMillis,
                                    boolean waitForCompletion, TxMetrics metrics, OneRoundTripCommit oneRoundTrip) {
        this(coordinator, gtrids, defaultTimeoutMillis, waitForCompletion, metrics, oneRoundTrip, BeginGuard.NONE);
    }

    public GlobalTransactionManager(CoordinatorAccess coordinator, GtridMinter gtrids, long defaultTimeoutMillis,
                                    boolean waitForCompletion, TxMetrics metrics, OneRoundTripCommit oneRoundTrip,
                                    BeginGuard beginGuard) {
        this.coordinator = coordinator;
        this.gtrids = gtrids;
        this.defaultTimeoutMillis = defaultTimeoutMillis;
        this.waitForCompletion = waitForCompletion;
        this.metrics = metrics;
        this.oneRoundTrip = Optional.ofNullable(oneRoundTrip);
        this.beginGuard = Objects.requireNonNull(beginGuard, "beginGuard");
    }

    public <T, E extends Throwable> T execute(GlobalTransactionDefinition def, GlobalTransactionCallback<T, E> work) throws E {
        TxScope existing = GlobalTxContext.current();
        Propagation.Step step = def.propagation().decide(existing != null);
        switch (step) {
            case FAIL:
                throw new TmUsageException(def.propagation().failureMessage()
                        + (existing != null ? " (bound: " + existing.gtrid() + ")" : ""));
            case JOIN:
                return joined(existing, def, work);
            case RUN_WITHOUT:
                return work.doInGlobalTransaction(new Status(null, false));
            case SUSPEND_AND_RUN_WITHOUT: {
                TxScope suspended = GlobalTxContext.bind(null);
                try {
                    return work.doInGlobalTransaction(new Status(null, false));
                } finally {
                    GlobalTxContext.bind(suspended);
                }
            }
            case SUSPEND_AND_BEGIN: {
                TxScope suspended = GlobalTxContext.bind(null);
                try {
                    return begun(def, work);
                } finally {
                    GlobalTxContext.bind(suspended);
                }
            }
            case BEGIN:
                return begun(def, work);
            default:
                throw new IllegalStateException("unhandled propagation step " + step);
        }
    }

    private <T, E extends Throwable> T joined(TxScope scope, GlobalTransactionDefinition def, GlobalTransactionCallback<T, E> work) throws E {
        try {
            return work.doInGlobalTransaction(new Status(scope, false));
        } catch (Throwable t) {
            if (def.rollbackRules().rollbackOn(t)) {
                // a participant failed: the whole global transaction must roll back (spring-tx's
                // globalRollbackOnParticipationFailure)
                scope.setRollbackOnly("a participating method threw " + t);
            }
            throw t;
        }
    }

    private <T, E extends Throwable> T begun(GlobalTransactionDefinition def, GlobalTransactionCallback<T, E> work) throws E {
        // only here, where a new transaction starts: a joining or non-transactional scope starts nothing
        // that could be left out, and must keep working inside a local transaction
        beginGuard.checkBeforeBegin(def);
        long timeoutMillis = def.timeoutMs() > 0 ? def.timeoutMs() : defaultTimeoutMillis;
        String gtrid = gtrids.next();
        // from Begin to the outcome, this thread's log lines carry the gtrid (see XidMdc)
        // ... and the work inside (JDBC, outgoing calls) is a child of the transaction's observation
        try (XidMdc.Scope mdc = XidMdc.put(gtrid); Observed observed = metrics.observe("transaction", gtrid, def.protocol())) {
            if (log.isDebugEnabled()) {
                log.debug("Begin {} ({}, {} ms)", def.name(), def.protocol(), timeoutMillis);
            }
            try {
                T result = begun(def, work, gtrid, timeoutMillis);
                log.debug("Ended");
                return result;
            } catch (Throwable t) {
                observed.failed(t);
                throw t;
            }
        }
    }

    private <T, E extends Throwable> T begun(GlobalTransactionDefinition def, GlobalTransactionCallback<T, E> work, String gtrid,
            long timeoutMillis) throws E {
        long deadlineNanos = System.nanoTime() + timeoutMillis * 1_000_000L;
        CommitPath path = choosePath(def, gtrid, timeoutMillis, deadlineNanos);
        TxScope scope = path.scope();
        metrics.begun(def.protocol());
        TxScope previous = GlobalTxContext.bind(scope);
        T result;
        try {
            result = work.doInGlobalTransaction(new Status(scope, true));
        } catch (Throwable t) {
            GlobalTxContext.bind(previous);
            boolean rollback = def.rollbackRules().rollbackOn(t);
            Ending ending = end(path, def, deadlineNanos, t, rollback);
            if (rollback) {
                rollbackAfter(ending, t);
            } else {
                try {
                    commit(ending);
                } catch (RuntimeException commitFailure) {
                    commitFailure.addSuppressed(t);
                    throw commitFailure;
                }
            }
            throw t;
        }
        GlobalTxContext.bind(previous);
        commit(end(path, def, deadlineNanos, null, scope.isRollbackOnly()));
        return result;
    }

    /** The one choice of path per transaction; the coordinator-driven one begins the transaction there now. */
    private CommitPath choosePath(GlobalTransactionDefinition def, String gtrid, long timeoutMillis, long deadlineNanos) {
        Optional<CommitPath> riding = oneRoundTrip.flatMap(
                o -> o.path(gtrid, def.name(), deadlineNanos, def.protocol(), waitForCompletion));
        if (riding.isPresent()) {
            return riding.get();
        }
        try (Observed observed = metrics.observe("begin", gtrid, def.protocol())) {
            coordinator.begin(gtrid, def.name(), timeoutMillis, def.protocol());
        }
        return new CommitPath.CoordinatorDriven(new TxScope(gtrid, true, deadlineNanos), coordinator, waitForCompletion);
    }

    /** A scope that began a transaction, ended, with the part of its path that drives it to its outcome. */
    private record Ending(TxScope scope, CommitProtocol protocol, String name, long deadlineNanos, CommitPath.Finish finish) {}

    private Ending end(CommitPath path, GlobalTransactionDefinition def, long deadlineNanos, Throwable failure, boolean doomed) {
        // settled before the scope lets go of its branches (see CommitPath.finish)
        CommitPath.Finish finish = path.finish();
        endScope(path.scope(), failure, doomed);
        return new Ending(path.scope(), def.protocol(), def.name(), deadlineNanos, finish);
    }

    private static void endScope(TxScope scope, Throwable failure, boolean doomed) {
        try {
            scope.end(doomed);
        } catch (RuntimeException e) {
            if (failure != null) {
                failure.addSuppressed(e);
            } else {
                throw e;
            }
        }
    }

    private void commit(Ending ending) {
        TxScope scope = ending.scope();
        CommitProtocol protocol = ending.protocol();
        String gtrid = scope.gtrid();
        if (scope.isRollbackOnly()) {
            OutcomeReport r = rollback(ending, true);
            throw new GlobalRollbackException("Global transaction " + gtrid + " was rolled back instead of committed: "
                    + scope.rollbackOnlyReason() + outcomeSuffix(r));
        }
        if (scope.pastDeadline()) {
            rollback(ending, false);
            metrics.ended(GlobalOutcome.TIMED_OUT, protocol);
            throw new GlobalTimeoutException("Global transaction " + gtrid + " passed its deadline before the method returned; "
                    + "it was rolled back");
        }
        long start = System.nanoTime();
        OutcomeReport r;
        try (Observed observed = metrics.observe("commit", gtrid, protocol)) {
            r = ending.finish().commit(ending.name(), ending.deadlineNanos(), protocol);
        }
        metrics.phaseLatency("commit", System.nanoTime() - start);
        metrics.ended(r.outcome(), protocol);
        switch (r.outcome()) {
            case COMMITTED:
                return;
            case ROLLED_BACK:
                throw new GlobalRollbackException("Global transaction " + gtrid + " was rolled back"
                        + ending.finish().rolledBackBecause() + r.detail());
            case TIMED_OUT:
                throw new GlobalTimeoutException("Global transaction " + gtrid + " timed out and was rolled back: " + r.detail());
            case HEURISTIC_HAZARD:
            default:
                throw new HeuristicOutcomeException(r.outcome(), "Global transaction " + gtrid + ": " + r.detail());
        }
    }

    private OutcomeReport rollback(Ending ending, boolean count) {
        TxScope scope = ending.scope();
        long start = System.nanoTime();
        OutcomeReport r;
        try (Observed observed = metrics.observe("rollback", scope.gtrid(), ending.protocol())) {
            r = ending.finish().rollback();
        }
        metrics.phaseLatency("rollback", System.nanoTime() - start);
        if (count) {
            metrics.ended(scope.pastDeadline() ? GlobalOutcome.TIMED_OUT : r.outcome(), ending.protocol());
        }
        return r;
    }

    private void rollbackAfter(Ending ending, Throwable original) {
        TxScope scope = ending.scope();
        try {
            OutcomeReport r = rollback(ending, true);
            if (r.outcome() == GlobalOutcome.COMMITTED || r.outcome() == GlobalOutcome.HEURISTIC_HAZARD) {
                original.addSuppressed(new HeuristicOutcomeException(r.outcome(), "rollback of " + scope.gtrid()
                        + " was asked after " + original + ", but the coordinator reports " + r.outcome() + ": " + r.detail()));
            }
        } catch (RuntimeException e) {
            log.warn("Rollback of global transaction {} failed after {}: {}", scope.gtrid(), original.toString(), e.toString());
            original.addSuppressed(e);
        }
    }

    private static String outcomeSuffix(OutcomeReport r) {
        return r.outcome() == GlobalOutcome.ROLLED_BACK ? "" : " (coordinator reports " + r.outcome() + ": " + r.detail() + ")";
    }

    private static final class Status implements GlobalTransactionStatus {
        private final TxScope scope;
        private final boolean newTransaction;

        Status(TxScope scope, boolean newTransaction) {
            this.scope = scope;
            this.newTransaction = newTransaction;
        }

        @Override
        public String gtrid() {
            return scope == null ? null : scope.gtrid();
        }

        @Override
        public boolean isNewTransaction() {
            return newTransaction;
        }

        @Override
        public void setRollbackOnly() {
            if (scope == null) {
                throw new TmUsageException("setRollbackOnly() without a global transaction");
            }
            scope.setRollbackOnly("setRollbackOnly() was called");
        }

        @Override
        public boolean isRollbackOnly() {
            return scope != null && scope.isRollbackOnly();
        }
    }
}
