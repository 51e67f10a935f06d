package dev.xatm.protocol;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A configured token has at least 16 characters; the refusal names the property, never the value. */
class TokenRuleTest {

    @Test
    void aTokenOfFifteenCharactersIsRefusedWithoutShowingIt() {
        assertThatThrownBy(() -> TokenRule.requireLongEnough("tm.client.auth-token", "fifteen-chars-x"))
                .isInstanceOf(TokenRule.Violation.class)
                .hasMessageContaining("tm.client.auth-token must be at least 16 characters")
                .hasMessageNotContaining("fifteen-chars-x");
    }

    @Test
    void sixteenCharactersAndUnsetValuesPass() {
        assertThatCode(() -> TokenRule.requireLongEnough("p", "sixteen-chars-xy")).doesNotThrowAnyException();
        assertThatCode(() -> TokenRule.requireLongEnough("p", null)).doesNotThrowAnyException();
        assertThatCode(() -> TokenRule.requireLongEnough("p", "")).doesNotThrowAnyException();
    }
}
