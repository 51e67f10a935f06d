package dev.xatm.client.coordinator;

/**
 * The coordinator's answer to {@link CoordinatorAccess#canCommitHeld}: go on and prepare (the
 * PRE_COMMIT record is durable), an outcome already, or a refusal that decided nothing.
 *
 * @param participantPreCommitMillis with PRE_COMMIT: how long a prepared branch waits for the decision
 *                                   before it commits on its own (the server's setting)
 * @param outcome                    with DECIDED: the outcome; with REFUSED: why (ROLLED_BACK, for messages)
 */
public record HeldCanCommit(Kind kind, long participantPreCommitMillis, OutcomeReport outcome) {

    public enum Kind {
        /** The PRE_COMMIT record is durable: XA PREPARE the branches, then send their answers. */
        PRE_COMMIT,
        /** Decided without PRE_COMMIT: a NO (rolled back) or every branch read-only (committed). */
        DECIDED,
        /** Not taken, nothing decided (a server that predates the call): commit the coordinator-driven way. */
        REFUSED
    }

    public static HeldCanCommit preCommit(long participantPreCommitMillis) {
        return new HeldCanCommit(Kind.PRE_COMMIT, participantPreCommitMillis, null);
    }

    public static HeldCanCommit decided(OutcomeReport outcome) {
        return new HeldCanCommit(Kind.DECIDED, 0, outcome);
    }

    public static HeldCanCommit refused(String why) {
        return new HeldCanCommit(Kind.REFUSED, 0, new OutcomeReport(dev.xatm.client.GlobalOutcome.ROLLED_BACK, why));
    }
}
