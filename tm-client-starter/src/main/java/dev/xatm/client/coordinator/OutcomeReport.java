package dev.xatm.client.coordinator;

import dev.xatm.client.GlobalOutcome;

/** The coordinator's answer to a commit or rollback request. */
public record OutcomeReport(GlobalOutcome outcome, String detail) {
}
