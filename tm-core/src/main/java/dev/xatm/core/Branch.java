package dev.xatm.core;

import java.util.Objects;

/**
 * One XA branch of a global transaction: the unit the coordinator asks to prepare, commit or roll back.
 *
 * @param bqual      the branch qualifier, unique within its global transaction (MySQL requires it)
 * @param resourceId a stable name of the database the branch runs on
 * @param agentId    the agent that holds the branch's connection and executes its phase commands
 */
public record Branch(String bqual, String resourceId, String agentId) {
    public Branch {
        Ids.requireBqual(bqual);
        Ids.requireName("resourceId", resourceId);
        Ids.requireName("agentId", agentId);
    }

    /** Same branch, possibly a repeated registration: bqual, resource and agent all equal. */
    public boolean sameAs(Branch other) {
        return Objects.equals(this, other);
    }
}
