package dev.xatm.client.autoconfigure;

import dev.xatm.protocol.TokenRule;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;

/**
 * A start refused because {@code tm.client.auth-token} breaks the token rule (shorter than
 * {@value TokenRule#MIN_LENGTH} characters) is reported as that one line instead of a chain of bean
 * creation exceptions; the line names the property, never the value. Registered in
 * META-INF/spring.factories.
 */
public final class TokenRuleFailureAnalyzer extends AbstractFailureAnalyzer<TokenRule.Violation> implements Ordered {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, TokenRule.Violation cause) {
        return new FailureAnalysis(cause.getMessage(),
                "Set tm.client.auth-token to tm-server's tm.server.auth-token (at least " + TokenRule.MIN_LENGTH
                        + " characters; the token tm-server generates into <tm.server.file.dir>/auth-token always is).", cause);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
