package dev.xatm.client;

import org.junit.jupiter.api.Test;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Spring's rollback rules: unchecked roll back, checked commit, the closest matching rule wins, rollback wins ties. */
class RollbackRulesTest {
    static class BusinessException extends Exception {
    }

    static class SpecialBusinessException extends BusinessException {
    }

    @Test
    void uncheckedExceptionsAndErrorsRollBackCheckedOnesCommit() {
        assertThat(RollbackRules.DEFAULT.rollbackOn(new IllegalStateException())).isTrue();
        assertThat(RollbackRules.DEFAULT.rollbackOn(new AssertionError())).isTrue();
        assertThat(RollbackRules.DEFAULT.rollbackOn(new IOException())).isFalse();
        assertThat(RollbackRules.DEFAULT.rollbackOn(new BusinessException())).isFalse();
    }

    @Test
    void rollbackForMakesACheckedExceptionAndItsSubclassesRollBack() {
        RollbackRules r = new RollbackRules(List.of(BusinessException.class), List.of());
        assertThat(r.rollbackOn(new BusinessException())).isTrue();
        assertThat(r.rollbackOn(new SpecialBusinessException())).isTrue();
        assertThat(r.rollbackOn(new IOException())).isFalse();
    }

    @Test
    void noRollbackForMakesAnUncheckedExceptionCommit() {
        RollbackRules r = new RollbackRules(List.of(), List.of(IllegalArgumentException.class));
        assertThat(r.rollbackOn(new IllegalArgumentException())).isFalse();
        assertThat(r.rollbackOn(new IllegalStateException())).isTrue();
    }

    @Test
    void theClosestRuleWins() {
        RollbackRules r = new RollbackRules(List.of(Exception.class), List.of(IOException.class));
        assertThat(r.rollbackOn(new FileNotFoundException())).isFalse(); // IOException is closer than Exception
        assertThat(r.rollbackOn(new BusinessException())).isTrue();
        RollbackRules s = new RollbackRules(List.of(SpecialBusinessException.class), List.of(BusinessException.class));
        assertThat(s.rollbackOn(new SpecialBusinessException())).isTrue();
        assertThat(s.rollbackOn(new BusinessException())).isFalse();
    }

    @Test
    void onATieTheRollbackRuleWins() {
        RollbackRules r = new RollbackRules(List.of(IOException.class), List.of(IOException.class));
        assertThat(r.rollbackOn(new IOException())).isTrue();
    }
}
