package dev.xatm.client.enlist;

import dev.xatm.protocol.v1.PhaseAction;

import java.util.Optional;

/**
 * The phase commands of the wire protocol, as a {@link Branch} runs them. Each names the
 * {@link PhaseAction} that carries it, so the mapping both ways is this table and nothing else.
 */
public enum BranchCommand {
    PREPARE(PhaseAction.PREPARE),
    COMMIT(PhaseAction.COMMIT),
    ROLLBACK(PhaseAction.ROLLBACK),
    COMMIT_ONE_PHASE(PhaseAction.COMMIT_ONE_PHASE),
    CAN_COMMIT(PhaseAction.CAN_COMMIT),
    PRE_COMMIT(PhaseAction.PRE_COMMIT);

    private final PhaseAction wire;

    BranchCommand(PhaseAction wire) {
        this.wire = wire;
    }

    /** The action that names this command on the wire. */
    public PhaseAction wire() {
        return wire;
    }

    /** The command a phase command names; empty for an action this agent does not know. */
    public static Optional<BranchCommand> of(PhaseAction action) {
        for (BranchCommand c : values()) {
            if (c.wire == action) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }
}
