package dev.xatm.coordinator.config;

import dev.xatm.protocol.TokenRule;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;

/**
 * A start refused by the token rules ({@link TokenRule}, {@link TokenRules}) is reported as the
 * rule's one line, not as the binder's exception chain: the operator reads which property to fix,
 * and the report never holds a token (the rule's messages carry none). Ordered before Spring Boot's
 * own analyzers, which would describe the same failure as a bind error of all of {@code tm.server}.
 * Registered in META-INF/spring.factories, so it serves tm-server and the starter's embedded mode.
 */
public final class TokenRuleFailureAnalyzer extends AbstractFailureAnalyzer<TokenRule.Violation> implements Ordered {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, TokenRule.Violation cause) {
        return new FailureAnalysis(cause.getMessage(),
                "Set the token properties so that each is at least " + TokenRule.MIN_LENGTH + " characters and no two are equal,"
                        + " or leave tm.server.auth-token and tm.server.admin-token unset to have them generated.", cause);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
