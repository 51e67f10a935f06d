package dev.xatm.client.coordinator;

import dev.xatm.client.TmUsageException;

/**
 * The coordinator refused to register a branch with FAILED_PRECONDITION: the transaction is no
 * longer active (timed out, rolling back, commit asked), or the branch's agent has no open stream to
 * it (yet). Enlistment tells the two apart by asking for the transaction's status, and retries the
 * second case once the agent is connected.
 */
public final class BranchRefusedException extends TmUsageException {
    public BranchRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
