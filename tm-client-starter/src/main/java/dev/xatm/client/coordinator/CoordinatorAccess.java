package dev.xatm.client.coordinator;

import dev.xatm.client.CommitProtocol;

/**
 * The TM role's calls to the coordinator: the one seam between the starter and where the
 * coordinator runs. {@code mode=remote} talks gRPC to tm-server ({@link GrpcCoordinatorAccess}); an
 * in-process coordinator ({@code mode=embedded}) will implement the same interface.
 *
 * <p>Every method returns within the configured call deadline or throws: an unreachable coordinator
 * is a {@link dev.xatm.client.TmSystemException}, a refusal that is the caller's fault a
 * {@link dev.xatm.client.TmUsageException}. Thread-safe.
 */
public interface CoordinatorAccess {
    /**
     * Registers a client-minted gtrid with a deadline of {@code timeoutMillis} from now, to be
     * committed with {@code protocol}.
     */
    void begin(String gtrid, String name, long timeoutMillis, CommitProtocol protocol);

    /** Adds a branch the given agent holds. Idempotent for an identical registration. */
    void registerBranch(String gtrid, String bqual, String resourceId, String agentId);

    /**
     * Asks for the commit and waits for the decision (and, with {@code waitForCompletion}, for every
     * branch's phase 2). A gtrid the coordinator does not know comes back as ROLLED_BACK (presumed
     * abort).
     */
    OutcomeReport commit(String gtrid, boolean waitForCompletion);

    /**
     * Asks for the commit of a two-phase transaction whose branches this instance's agent
     * ({@code agentId}) has already prepared, carrying their votes: one round trip. The
     * coordinator need not have heard of the gtrid before; it then starts it with {@code name} and a
     * deadline of {@code timeoutMillis} from now. Answers once decided (for COMMITTED: durable); the
     * caller then commits its branches itself and acknowledges them through the agent.
     */
    default OutcomeReport commitPrepared(String gtrid, String name, long timeoutMillis, String agentId,
                                         java.util.List<PreparedBranch> branches) {
        throw new UnsupportedOperationException(describe() + " takes no commit with prepared branches");
    }

    /**
     * The first request of a three-phase commit whose branches this instance's agent ({@code agentId})
     * holds: it has answered CAN_COMMIT for them itself ({@code answers}: YES or READ_ONLY). The
     * coordinator, which never heard of the gtrid, starts it with {@code name} and a deadline of
     * {@code timeoutMillis} from now and answers once its PRE_COMMIT record is durable (or with the
     * outcome). {@link HeldCanCommit.Kind#REFUSED} when it takes no such request (a server that predates
     * it, or one that refused it before deciding anything): the caller then commits the strict way.
     */
    default HeldCanCommit canCommitHeld(String gtrid, String name, long timeoutMillis, String agentId, java.util.List<PreparedBranch> answers) {
        return HeldCanCommit.refused(describe() + " takes no three-phase commit with CAN_COMMIT answers");
    }

    /**
     * The second request: after {@link HeldCanCommit.Kind#PRE_COMMIT} the agent XA-prepared the branches
     * and sends those answers (YES or NO). Answers the decision (COMMITTED once durable); the caller
     * then commits its branches itself and acknowledges them through the agent.
     */
    default OutcomeReport preCommitHeld(String gtrid, String agentId, java.util.List<PreparedBranch> answers) {
        throw new UnsupportedOperationException(describe() + " takes no PRE_COMMIT answers");
    }

    /** Asks for the rollback and waits until it is decided. */
    OutcomeReport rollback(String gtrid);

    /** What the coordinator knows of the gtrid right now. */
    TxnStatus status(String gtrid);

    /** For messages: "tm-server at host:port". */
    String describe();
}
