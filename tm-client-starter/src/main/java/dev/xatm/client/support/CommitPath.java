package dev.xatm.client.support;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.context.TxScope;
import dev.xatm.client.coordinator.CoordinatorAccess;
import dev.xatm.client.coordinator.OutcomeReport;
import dev.xatm.client.enlist.Branch;

import java.util.List;

/**
 * How one global transaction begun in this process is driven to its outcome, chosen once when it
 * begins ({@link GlobalTransactionManager} asks {@link OneRoundTripCommit#path} first, and takes the
 * coordinator-driven path when that declines or {@code tm.client.commit-path=strict}).
 *
 * <ul>
 *   <li>{@link CoordinatorDriven}: begun at the coordinator, every branch registered as it joins; the
 *       coordinator sends every phase command.</li>
 *   <li>{@link OneRoundTrip}: begun in this process only; its branches are not registered. When the
 *       business method returns it {@linkplain #finish settles}: if the gtrid left the process (an
 *       outgoing call begun it at the coordinator) it ends the coordinator-driven way, else the calling
 *       thread commits its {@link OwnBranches} with one request that carries their votes.</li>
 * </ul>
 *
 * <p>Immutable; the paths carry the transaction's scope, which is confined to the thread that began
 * it, so a path is used by that thread only.
 */
sealed interface CommitPath permits CommitPath.CoordinatorDriven, CommitPath.OneRoundTrip {

    /** The scope the business method runs in. */
    TxScope scope();

    /**
     * The way the transaction ends. Called once the business method returned and before the scope
     * lets go of its branches: by then it is known whether the gtrid left the process, and the own
     * branches can still be taken from the scope.
     */
    Finish finish();

    /** The last part of a path: commits or rolls back a transaction whose method returned. */
    sealed interface Finish permits CoordinatorDriven, OwnBranches {
        OutcomeReport commit(String name, long deadlineNanos, CommitProtocol protocol);

        OutcomeReport rollback();

        /** How a ROLLED_BACK answer to a commit reads in the exception, after "was rolled back". */
        String rolledBackBecause();
    }

    /** The coordinator knows the transaction and its branches and sends every phase command. */
    record CoordinatorDriven(TxScope scope, CoordinatorAccess coordinator, boolean waitForCompletion)
            implements CommitPath, Finish {
        @Override
        public Finish finish() {
            return this;
        }

        @Override
        public OutcomeReport commit(String name, long deadlineNanos, CommitProtocol protocol) {
            return coordinator.commit(scope.gtrid(), waitForCompletion);
        }

        @Override
        public OutcomeReport rollback() {
            return coordinator.rollback(scope.gtrid());
        }

        @Override
        public String rolledBackBecause() {
            return " by the coordinator: ";
        }
    }

    /**
     * Begun in this process only. {@code ifPropagated} is the coordinator-driven path the scope falls
     * back to once its gtrid went to another service (the scope begins it at the coordinator then).
     */
    record OneRoundTrip(TxScope scope, OneRoundTripCommit via, CoordinatorDriven ifPropagated) implements CommitPath {
        @Override
        public Finish finish() {
            return scope.registersBranches() ? ifPropagated : new OwnBranches(scope, via, via.branches(scope));
        }
    }

    /** Every branch is this process's own: the calling thread prepares and commits them itself. */
    record OwnBranches(TxScope scope, OneRoundTripCommit via, List<Branch> own) implements Finish {
        @Override
        public OutcomeReport commit(String name, long deadlineNanos, CommitProtocol protocol) {
            return via.commit(scope, own, name, deadlineNanos, protocol);
        }

        @Override
        public OutcomeReport rollback() {
            return via.rollback(own, "rolled back by this application; the coordinator never needed to know it");
        }

        @Override
        public String rolledBackBecause() {
            return " instead of committed: ";
        }
    }
}
