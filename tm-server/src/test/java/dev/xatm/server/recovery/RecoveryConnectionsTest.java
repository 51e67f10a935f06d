package dev.xatm.server.recovery;

import dev.xatm.core.Action;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The server's recovery connections never show a password, refuse other URLs, and report an unreachable database plainly. */
@ExtendWith(OutputCaptureExtension.class)
class RecoveryConnectionsTest {
    private static final String SECRET = "s3cret-pa55word-value";

    @Test
    void passwordsNeverShowAndOnlyPostgresOrMariaDbUrlsAreAccepted() {
        RecoveryResources r = new RecoveryResources(Map.of("db-1", new RecoveryResources.Resource("jdbc:postgresql://h/db", "u", SECRET)));
        assertThat(r.toString()).doesNotContain(SECRET).contains("hidden");
        assertThatThrownBy(() -> new RecoveryResources(Map.of("db-2", new RecoveryResources.Resource("jdbc:oracle:thin:@h", "u", SECRET))))
                .hasMessageContaining("tm.server.resources.db-2.url").hasMessageNotContaining(SECRET);
        assertThat(new RecoveryResources(null).resources()).isEmpty();
    }

    @Test
    void anUnreachableDatabaseIsNotDoneAndTheMessageHoldsNoCredentials(CapturedOutput output) {
        RecoveryConnections c = new RecoveryConnections(new RecoveryResources(Map.of(
                "db-1", new RecoveryResources.Resource("jdbc:postgresql://127.0.0.1:1/none?connectTimeout=2", "someone", SECRET))));
        assertThat(c.has("db-1")).isTrue();
        assertThat(c.has("db-2")).isFalse();
        RecoveryConnections.Attempt a = c.complete("db-1", "g1", "b1", Action.COMMIT);
        assertThat(a.done()).isFalse();
        assertThat(a.detail()).contains("could not reach db-1").doesNotContain(SECRET);
        assertThat(c.complete("db-2", "g1", "b1", Action.COMMIT).done()).isFalse();
        assertThatThrownBy(() -> c.complete("db-1", "g1", "b1", Action.PREPARE)).isInstanceOf(IllegalArgumentException.class);
        assertThat(output).doesNotContain(SECRET);
    }
}
