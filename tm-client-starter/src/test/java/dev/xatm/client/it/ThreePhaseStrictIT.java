package dev.xatm.client.it;

/**
 * {@link ThreePhaseIT} on the coordinator-driven path (tm.client.commit-path=strict): Begin, a
 * RegisterBranch per branch, and CAN_COMMIT, PRE_COMMIT and COMMIT on the agent's stream.
 */
class ThreePhaseStrictIT extends ThreePhaseIT {
    @Override
    boolean strict() {
        return true;
    }
}
