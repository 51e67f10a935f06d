package dev.xatm.client;

import java.util.Objects;

/**
 * Everything {@link GlobalTransactional} says, as a value for the programmatic
 * {@link GlobalTransactionTemplate}. Immutable; the {@code with*} methods return copies.
 *
 * @param name        shown by the coordinator and its admin API; empty for none
 * @param timeoutMs   the deadline from begin; 0 means the configured default (tm.client.default-timeout-ms)
 */
public record GlobalTransactionDefinition(String name, long timeoutMs, CommitProtocol protocol, Propagation propagation,
                                          RollbackRules rollbackRules) {
    public static final GlobalTransactionDefinition DEFAULT =
            new GlobalTransactionDefinition("", 0, CommitProtocol.TWO_PHASE, Propagation.REQUIRED, RollbackRules.DEFAULT);

    public GlobalTransactionDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(propagation, "propagation");
        Objects.requireNonNull(rollbackRules, "rollbackRules");
        if (timeoutMs < 0) {
            throw new TmUsageException("timeoutMs must be >= 0 (0 = the default), got " + timeoutMs);
        }
    }

    public GlobalTransactionDefinition withName(String n) {
        return new GlobalTransactionDefinition(n, timeoutMs, protocol, propagation, rollbackRules);
    }

    public GlobalTransactionDefinition withTimeoutMs(long t) {
        return new GlobalTransactionDefinition(name, t, protocol, propagation, rollbackRules);
    }

    public GlobalTransactionDefinition withProtocol(CommitProtocol p) {
        return new GlobalTransactionDefinition(name, timeoutMs, p, propagation, rollbackRules);
    }

    public GlobalTransactionDefinition withPropagation(Propagation p) {
        return new GlobalTransactionDefinition(name, timeoutMs, protocol, p, rollbackRules);
    }

    public GlobalTransactionDefinition withRollbackRules(RollbackRules r) {
        return new GlobalTransactionDefinition(name, timeoutMs, protocol, propagation, r);
    }
}
