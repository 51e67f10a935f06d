package dev.xatm.coordinator.config;

import dev.xatm.core.Protocol;
import dev.xatm.core.ThreePhaseTimeouts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** tm.server.* binding: the documented defaults, and bad values refused with a message naming the property. */
@ExtendWith(OutputCaptureExtension.class)
class TmServerPropertiesTest {

    private static TmServerProperties bind(Map<String, String> values) {
        return new Binder(new MapConfigurationPropertySource(values)).bindOrCreate("tm.server", TmServerProperties.class);
    }

    /** The transaction timeouts take a Duration ("30s") as well as a bare number, which keeps meaning milliseconds. */
    @Test
    void timeoutsTakeADurationOrMilliseconds() {
        TmServerProperties bare = bind(Map.of("tm.server.prepare-timeout-ms", "2500", "tm.server.default-timeout-ms", "30000",
                "tm.server.max-timeout-ms", "120000"));
        assertThat(bare.prepareTimeoutMs()).isEqualTo(java.time.Duration.ofMillis(2500));
        assertThat(bare.defaultTimeoutMs()).isEqualTo(java.time.Duration.ofSeconds(30));
        assertThat(bare.maxTimeoutMs()).isEqualTo(java.time.Duration.ofMinutes(2));
        TmServerProperties units = bind(Map.of("tm.server.prepare-timeout-ms", "5s", "tm.server.default-timeout-ms", "30s",
                "tm.server.max-timeout-ms", "1h"));
        assertThat(units.prepareTimeoutMs()).isEqualTo(java.time.Duration.ofSeconds(5));
        assertThat(units.coordinatorConfig().prepareTimeoutMillis()).isEqualTo(5_000);
        assertThat(units.defaultTimeoutMs()).isEqualTo(java.time.Duration.ofSeconds(30));
        assertThat(units.maxTimeoutMs()).isEqualTo(java.time.Duration.ofHours(1));
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        TmServerProperties p = bind(Map.of());
        assertThat(p.port()).isEqualTo(7071);
        assertThat(p.store()).isEqualTo(TmServerProperties.Store.FILE);
        assertThat(p.file().dir()).isEqualTo("./tm-data");
        assertThat(p.file().segmentBytesMax()).isEqualTo(67_108_864L);
        assertThat(p.authToken()).isNull();
        assertThat(p.adminToken()).isNull();
        assertThat(p.adminReadToken()).isNull();
        assertThat(p.operators()).isEmpty();
        assertThat(p.serverId()).isEqualTo("tm-1");
        assertThat(p.prepareTimeoutMs()).isEqualTo(java.time.Duration.ofMillis(10_000));
        assertThat(p.retryInitialMs()).isEqualTo(200);
        assertThat(p.retryMaxMs()).isEqualTo(5_000);
        assertThat(p.tickMs()).isEqualTo(50);
        assertThat(p.defaultTimeoutMs()).isEqualTo(java.time.Duration.ofMillis(60_000));
        assertThat(p.maxTimeoutMs()).isEqualTo(java.time.Duration.ofMillis(3_600_000));
        assertThat(p.maxBranchesPerTransaction()).isEqualTo(64);
        assertThat(p.maxLiveTransactions()).isEqualTo(100_000);
        assertThat(p.keepaliveMs()).isEqualTo(5_000);
    }

    @Test
    void commandLineStyleNamesBind() {
        TmServerProperties p = bind(Map.of(
                "tm.server.port", "0",
                "tm.server.file.dir", "/tmp/x",
                "tm.server.file.segment-bytes-max", "1048576",
                "tm.server.auth-token", "t0ken-t0ken-t0ken-t0ken",
                "tm.server.prepare-timeout-ms", "1500",
                "tm.server.max-branches-per-transaction", "8"));
        assertThat(p.port()).isZero();
        assertThat(p.file().dirPath().toString()).isEqualTo("/tmp/x");
        assertThat(p.file().segmentBytesMax()).isEqualTo(1_048_576);
        assertThat(p.authToken()).isEqualTo("t0ken-t0ken-t0ken-t0ken");
        assertThat(p.coordinatorConfig().prepareTimeoutMillis()).isEqualTo(1500);
        assertThat(p.coordinatorConfig().maxBranchesPerTxn()).isEqualTo(8);
    }

    @Test
    void theDefaultProtocolIsTwoPhaseWithTheDocumentedThreePhaseTimeouts() {
        TmServerProperties p = bind(Map.of());
        assertThat(p.defaultProtocol()).isEqualTo("two-phase");
        assertThat(p.coordinatorConfig().defaultProtocol()).isEqualTo(Protocol.TWO_PHASE);
        assertThat(p.coordinatorConfig().threePhase()).isEqualTo(new ThreePhaseTimeouts(10_000, 10_000, 30_000, 30_000));
    }

    @Test
    void theDefaultProtocolAcceptsItsSpellings() {
        Map<String, Protocol> spellings = Map.of(
                "two-phase", Protocol.TWO_PHASE, "2pc", Protocol.TWO_PHASE, "TWO_PHASE", Protocol.TWO_PHASE,
                "three-phase", Protocol.THREE_PHASE, "3pc", Protocol.THREE_PHASE, "3PC", Protocol.THREE_PHASE,
                " Three_Phase ", Protocol.THREE_PHASE);
        spellings.forEach((value, protocol) -> {
            TmServerProperties p = bind(Map.of("tm.server.default-protocol", value));
            assertThat(p.coordinatorConfig().defaultProtocol()).as(value).isEqualTo(protocol);
            assertThat(p.defaultProtocol()).as(value).isEqualTo(protocol == Protocol.TWO_PHASE ? "two-phase" : "three-phase");
        });
    }

    @Test
    void aBadDefaultProtocolIsRefused() {
        assertRefused("tm.server.default-protocol", "four-phase",
                "tm.server.default-protocol must be 'two-phase' or 'three-phase', got 'four-phase'");
        assertRefused("tm.server.default-protocol", "1pc", "tm.server.default-protocol must be");
    }

    @Test
    void threePhaseTimeoutsBindAndReachTheCore() {
        TmServerProperties p = bind(Map.of(
                "tm.server.default-protocol", "three-phase",
                "tm.server.three-phase.can-commit-timeout-ms", "100",
                "tm.server.three-phase.pre-commit-timeout-ms", "200",
                "tm.server.three-phase.participant-can-commit-timeout-ms", "300",
                "tm.server.three-phase.participant-pre-commit-timeout-ms", "400"));
        assertThat(p.threePhase()).isEqualTo(new TmServerProperties.ThreePhase(100, 200, 300, 400));
        assertThat(p.coordinatorConfig().threePhase()).isEqualTo(new ThreePhaseTimeouts(100, 200, 300, 400));
    }

    @Test
    void theParticipantMustWaitLongerThanTheCoordinatorForPreCommit() {
        String message = "tm.server.three-phase.participant-pre-commit-timeout-ms (10000) must be greater than"
                + " tm.server.three-phase.pre-commit-timeout-ms (10000)";
        assertRefused("tm.server.three-phase.participant-pre-commit-timeout-ms", "10000", message);
        assertThatThrownBy(() -> bind(Map.of(
                "tm.server.three-phase.pre-commit-timeout-ms", "5000",
                "tm.server.three-phase.participant-pre-commit-timeout-ms", "4999")))
                .isInstanceOf(BindException.class).rootCause().hasMessageContaining("(4999) must be greater than");
        assertThat(bind(Map.of("tm.server.three-phase.pre-commit-timeout-ms", "5000",
                "tm.server.three-phase.participant-pre-commit-timeout-ms", "5001")).threePhase().participantPreCommitTimeoutMs())
                .isEqualTo(5001);
    }

    @Test
    void threePhaseTimeoutsMustBePositive() {
        assertRefused("tm.server.three-phase.can-commit-timeout-ms", "0", "tm.server.three-phase.can-commit-timeout-ms must be between 1 and");
        assertRefused("tm.server.three-phase.pre-commit-timeout-ms", "-1", "tm.server.three-phase.pre-commit-timeout-ms must be between 1 and");
        assertRefused("tm.server.three-phase.participant-can-commit-timeout-ms", "0",
                "tm.server.three-phase.participant-can-commit-timeout-ms must be between 1 and");
    }

    @Test
    void anEmptyTokenMeansUnset() {
        assertThat(bind(Map.of("tm.server.auth-token", "")).authToken()).isNull();
    }

    @Test
    void theJdbcStoreNeedsAUrlAndKeepsItsPasswordOutOfToString() {
        assertThatThrownBy(() -> bind(Map.of("tm.server.store", "jdbc")))
                .isInstanceOf(BindException.class)
                .rootCause().hasMessageContaining("tm.server.store=jdbc needs tm.server.jdbc.url");
        TmServerProperties p = bind(Map.of("tm.server.store", "jdbc", "tm.server.jdbc.url",
                "jdbc:postgresql://db:5432/tm?password=url-pw-123", "tm.server.jdbc.username", "tm",
                "tm.server.jdbc.password", "store-pw-456", "tm.server.node-id", "3"));
        assertThat(p.store()).isEqualTo(TmServerProperties.Store.JDBC);
        assertThat(p.nodeId()).isEqualTo(3);
        assertThat(p.jdbc().tablePrefix()).isEqualTo("tm_");
        assertThat(p.jdbc().leaseTtlMs()).isEqualTo(2000);
        assertThat(p.toString()).doesNotContain("url-pw-123").doesNotContain("store-pw-456").contains("password=<set>");
        assertRefused("tm.server.node-id", "0", "tm.server.node-id must be between 1 and 32767");
        assertRefused("tm.server.jdbc.table-prefix", "Bad-Prefix", "tm.server.jdbc.table-prefix must be");
    }

    @Test
    void badValuesNameTheirProperty() {
        assertThatThrownBy(() -> bind(Map.of("tm.server.store", "mongo"))).as("tm.server.store=mongo")
                .isInstanceOf(BindException.class).hasMessageContaining("tm.server.store")
                .rootCause().hasMessageContaining("mongo");
        assertRefused("tm.server.port", "70000", "tm.server.port must be 0..65535");
        assertRefused("tm.server.tick-ms", "0", "tm.server.tick-ms must be between 1 and");
        assertRefused("tm.server.prepare-timeout-ms", "-5", "tm.server.prepare-timeout-ms must be between 1 and");
        assertRefused("tm.server.retry-initial-ms", "9000", "tm.server.retry-max-ms (5000) must be >= tm.server.retry-initial-ms (9000)");
        assertRefused("tm.server.default-timeout-ms", "4000000", "tm.server.default-timeout-ms (4000000) must be <= tm.server.max-timeout-ms");
        assertRefused("tm.server.max-branches-per-transaction", "0", "tm.server.max-branches-per-transaction must be between 1 and");
        assertRefused("tm.server.max-branches-per-transaction", "1001", "tm.server.max-branches-per-transaction must be between 1 and 1000");
        assertRefused("tm.server.keepalive-ms", "10", "tm.server.keepalive-ms must be between 100 and");
        assertRefused("tm.server.file.segment-bytes-max", "10", "tm.server.file.segment-bytes-max must be between 4096");
        assertRefused("tm.server.file.segment-bytes-max", "2147483648", "tm.server.file.segment-bytes-max must be between 4096 and 1073741824");
    }

    /** The log's corruption flag is off and its stall bound 30 s unless set; the bound takes a Duration and is at least a second. */
    @Test
    void theLogsCorruptionFlagAndStallTimeoutBindWithSafeDefaults() {
        TmServerProperties defaults = bind(Map.of());
        assertThat(defaults.file().truncateCorrupt()).isFalse();
        assertThat(defaults.log().stallTimeout()).isEqualTo(java.time.Duration.ofSeconds(30));
        TmServerProperties set = bind(Map.of("tm.server.file.truncate-corrupt", "true", "tm.server.log.stall-timeout", "5s"));
        assertThat(set.file().truncateCorrupt()).isTrue();
        assertThat(set.log().stallTimeout()).isEqualTo(java.time.Duration.ofSeconds(5));
        assertThat(bind(Map.of("tm.server.log.stall-timeout", "2500")).log().stallTimeout()).isEqualTo(java.time.Duration.ofMillis(2500));
        assertRefused("tm.server.log.stall-timeout", "100ms", "tm.server.log.stall-timeout must be between 1000 and");
        assertRefused("tm.server.log.stall-timeout", "30d", "tm.server.log.stall-timeout must be between 1000 and");
    }

    @Test
    void aBadTokenIsRefusedWithoutEchoingIt() {
        assertThatThrownBy(() -> bind(Map.of("tm.server.auth-token", "has a space")))
                .rootCause().hasMessageContaining("tm.server.auth-token must be").hasMessageNotContaining("has a space");
    }

    @Test
    void toStringHidesTheTokens() {
        TmServerProperties p = bind(Map.of("tm.server.auth-token", "s3cret-s3cret-s3cret", "tm.server.admin-token", "adm1n-adm1n-adm1n",
                "tm.server.admin-read-token", "r3ader-r3ader-r3ader", "tm.server.operators.jane.token", "j4ne-j4ne-j4ne-j4ne",
                "tm.server.operators.jane.role", "resolve"));
        assertThat(p.toString()).doesNotContain("s3cret").doesNotContain("adm1n").doesNotContain("r3ader").doesNotContain("j4ne-")
                .contains("authToken=<set>").contains("adminReadToken=<set>").contains("role=resolve");
    }

    /** Every configured token has at least 16 characters; the refusal names the property, never the value. */
    @Test
    void aTokenShorterThanSixteenCharactersIsRefused() {
        for (String property : java.util.List.of("tm.server.auth-token", "tm.server.admin-token", "tm.server.admin-read-token")) {
            assertThatThrownBy(() -> bind(Map.of(property, "fifteen-chars-x")))
                    .as(property).rootCause().isInstanceOf(dev.xatm.protocol.TokenRule.Violation.class)
                    .hasMessageContaining(property + " must be at least 16 characters").hasMessageNotContaining("fifteen-chars-x");
        }
        assertThatThrownBy(() -> bind(Map.of("tm.server.operators.jane.token", "short-jane")))
                .rootCause().hasMessageContaining("tm.server.operators.jane.token must be at least 16 characters")
                .hasMessageNotContaining("short-jane");
        assertThat(bind(Map.of("tm.server.auth-token", "sixteen-chars-xy")).authToken()).isEqualTo("sixteen-chars-xy");
    }

    /** The client token, which every service holds, must not open the admin API; and one token is one operator. */
    @Test
    void theClientTokenMustDifferFromEveryAdminTokenAndAdminTokensFromEachOther() {
        String same = "the-same-token-0123456789";
        assertThatThrownBy(() -> bind(Map.of("tm.server.auth-token", same, "tm.server.admin-token", same)))
                .rootCause().isInstanceOf(dev.xatm.protocol.TokenRule.Violation.class)
                .hasMessageContaining("tm.server.auth-token must differ from tm.server.admin-token").hasMessageNotContaining(same);
        assertThatThrownBy(() -> bind(Map.of("tm.server.auth-token", same, "tm.server.admin-read-token", same)))
                .rootCause().hasMessageContaining("tm.server.auth-token must differ from tm.server.admin-read-token");
        assertThatThrownBy(() -> bind(Map.of("tm.server.auth-token", same, "tm.server.operators.jane.token", same)))
                .rootCause().hasMessageContaining("tm.server.auth-token must differ from tm.server.operators.jane.token");
        assertThatThrownBy(() -> bind(Map.of("tm.server.admin-token", same, "tm.server.admin-read-token", same)))
                .rootCause().hasMessageContaining("tm.server.admin-token must differ from tm.server.admin-read-token");
        assertThatThrownBy(() -> bind(Map.of("tm.server.operators.jane.token", same, "tm.server.operators.joe.token", same)))
                .rootCause().hasMessageContaining("tm.server.operators.jane.token must differ from tm.server.operators.joe.token");
    }

    @Test
    void namedOperatorsBindWithTheirRoles() {
        TmServerProperties p = bind(Map.of("tm.server.operators.jane.token", "jane-token-0123456789", "tm.server.operators.jane.role", "Resolve",
                "tm.server.operators.joe.token", "joe-token-0123456789"));
        assertThat(p.operators()).containsOnlyKeys("jane", "joe");
        assertThat(p.operators().get("jane").role()).isEqualTo("resolve");
        assertThat(p.operators().get("joe").role()).isEqualTo("read");
        assertRefused("tm.server.operators.jane.role", "admin", "tm.server.operators.<name>.role must be 'read' or 'resolve'");
        assertThatThrownBy(() -> bind(Map.of("tm.server.operators.jane.role", "read")))
                .rootCause().hasMessageContaining("tm.server.operators.jane.token is not set");
        assertThatThrownBy(() -> bind(Map.of("tm.server.operators.admin.token", "admin-token-0123456789")))
                .rootCause().hasMessageContaining("the names 'admin' and 'admin-read' are taken");
        assertThatThrownBy(() -> bind(Map.of("tm.server.operators." + "a".repeat(65) + ".token", "long-name-token-0123456789")))
                .rootCause().hasMessageContaining("the name must be 1..64 characters");
    }

    /**
     * A start refused by a token rule ends with the rule's one line (a FailureAnalyzer's report), not
     * with a stack trace, and the output never holds the token.
     */
    @Test
    void aStartWithAShortTokenFailsWithOneLineAndNoStackTrace(CapturedOutput output) {
        assertThatThrownBy(() -> new SpringApplicationBuilder(PropertiesOnly.class)
                .web(WebApplicationType.NONE)
                .run("--tm.server.auth-token=tiny-secret-1"))
                .rootCause().isInstanceOf(dev.xatm.protocol.TokenRule.Violation.class);
        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("tm.server.auth-token must be at least 16 characters long")
                .doesNotContain("tiny-secret-1")
                .doesNotContain("\tat ")
                .doesNotContain("Failed to bind properties");
    }

    @Test
    void aStartWithABadValueFailsWithAClearMessageAndNoSecret(CapturedOutput output) {
        assertThatThrownBy(() -> new SpringApplicationBuilder(PropertiesOnly.class)
                .web(WebApplicationType.NONE)
                .run("--tm.server.store=jdbc", "--tm.server.auth-token=very-secret-value-1"))
                .rootCause().hasMessageContaining("tm.server.store=jdbc needs tm.server.jdbc.url");
        assertThat(output).contains("tm.server.store=jdbc needs tm.server.jdbc.url");
        assertThat(output).doesNotContain("very-secret-value-1");
    }

    private static void assertRefused(String property, String value, String message) {
        assertThatThrownBy(() -> bind(Map.of(property, value)))
                .as(property + "=" + value)
                .rootCause().hasMessageContaining(message);
    }

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(TmServerProperties.class)
    static class PropertiesOnly {
        PropertiesOnly(TmServerProperties properties) {
            // forces binding at start-up, as the real application does
        }
    }
}
