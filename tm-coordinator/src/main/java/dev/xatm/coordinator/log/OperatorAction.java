package dev.xatm.coordinator.log;

import java.util.Objects;

/**
 * One operator's forced commit, rollback or forget, as the log keeps it: who (a name and the role of
 * the token used), when (wall clock), what (the request and how the coordinator answered) and why (an
 * optional reason). Kept apart from the protocol records: it never changes what a restart decides, it
 * only tells the story.
 *
 * @param gtrid       the global transaction
 * @param atEpochMillis when the coordinator answered
 * @param operator    the operator's name
 * @param role        the role of the token that authenticated the request
 * @param action      commit, rollback or forget
 * @param result      the coordinator's answer: the status it left, or why it refused
 * @param reason      the operator's reason, or null
 */
public record OperatorAction(String gtrid, long atEpochMillis, String operator, String role, String action, String result,
                             String reason) {
    public OperatorAction {
        Objects.requireNonNull(gtrid, "gtrid");
        Objects.requireNonNull(operator, "operator");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(result, "result");
    }
}
