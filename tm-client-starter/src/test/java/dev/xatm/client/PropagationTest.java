package dev.xatm.client;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The whole propagation policy is one table: each behaviour with and without an existing transaction. */
class PropagationTest {
    @ParameterizedTest(name = "{0} existing={1} -> {2}")
    @CsvSource({
            "REQUIRED,      false, BEGIN",
            "REQUIRED,      true,  JOIN",
            "REQUIRES_NEW,  false, BEGIN",
            "REQUIRES_NEW,  true,  SUSPEND_AND_BEGIN",
            "SUPPORTS,      false, RUN_WITHOUT",
            "SUPPORTS,      true,  JOIN",
            "NOT_SUPPORTED, false, RUN_WITHOUT",
            "NOT_SUPPORTED, true,  SUSPEND_AND_RUN_WITHOUT",
            "MANDATORY,     false, FAIL",
            "MANDATORY,     true,  JOIN",
            "NEVER,         false, RUN_WITHOUT",
            "NEVER,         true,  FAIL",
    })
    void decides(Propagation p, boolean existing, Propagation.Step expected) {
        assertThat(p.decide(existing)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"MANDATORY, No existing global transaction", "NEVER, Existing global transaction found"})
    void failingPropagationsExplainThemselves(Propagation p, String message) {
        assertThat(p.failureMessage()).contains(message).contains(p.name());
    }

    @ParameterizedTest
    @CsvSource({"REQUIRED", "REQUIRES_NEW", "SUPPORTS", "NOT_SUPPORTED"})
    void propagationsThatNeverFailHaveNoFailureMessage(Propagation p) {
        assertThatThrownBy(p::failureMessage).isInstanceOf(IllegalStateException.class);
    }
}
