package dev.xatm.testkit;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Map;

/**
 * The condition behind {@link RequiresDatabases}. The configuration parameter
 * {@code xatm.testkit.environment=empty} makes it judge as if no variable were set and no Docker ran,
 * which is how the kit's own test checks that skips are counted.
 */
final class DatabasesCondition implements ExecutionCondition {
    static final String ENVIRONMENT_PARAMETER = "xatm.testkit.environment";

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        boolean empty = context.getConfigurationParameter(ENVIRONMENT_PARAMETER).map("empty"::equals).orElse(false);
        Map<String, String> env = empty ? Map.of() : System.getenv();
        TestDatabases.Source source = TestDatabases.source(env, empty ? () -> false : DatabaseContainers::dockerAvailable);
        if (source != TestDatabases.Source.MISSING || TestDatabases.isCi(env)) {
            return ConditionEvaluationResult.enabled("databases: " + source);
        }
        if (context.getTestMethod().isEmpty() && isParameterizedClass(context)) {
            // A disabled class template is reported as no test at all; let its invocations run and
            // disable each test method instead (they are then counted as skipped).
            return ConditionEvaluationResult.enabled("each test method is disabled instead");
        }
        String why = TestDatabases.skipReason(env);
        TestDatabases.warnOnce(why);
        return ConditionEvaluationResult.disabled(why);
    }

    private static boolean isParameterizedClass(ExtensionContext context) {
        return context.getTestClass().stream()
                .flatMap(c -> java.util.Arrays.stream(c.getAnnotations()))
                .anyMatch(a -> a.annotationType().getName().equals("org.junit.jupiter.params.ParameterizedClass"));
    }
}
