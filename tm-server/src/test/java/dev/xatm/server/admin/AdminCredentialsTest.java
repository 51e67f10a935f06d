package dev.xatm.server.admin;

import dev.xatm.protocol.TokenRule;
import dev.xatm.coordinator.config.ClientAuthToken;
import dev.xatm.coordinator.config.TmServerProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each admin token names one operator with one role; the client token, even one read from its file, is none of them. */
class AdminCredentialsTest {
    private static final String ADMIN = "admin-token-0123456789";
    private static final String READ = "read-token-0123456789";
    private static final String JANE = "jane-token-0123456789";

    private static TmServerProperties props(Path dir, Map<String, String> extra) {
        Map<String, String> values = new HashMap<>(Map.of("tm.server.file.dir", dir.toString(), "tm.server.admin-token", ADMIN,
                "tm.server.admin-read-token", READ, "tm.server.operators.jane.token", JANE, "tm.server.operators.jane.role", "resolve"));
        values.putAll(extra);
        return new Binder(new MapConfigurationPropertySource(values)).bindOrCreate("tm.server", TmServerProperties.class);
    }

    @Test
    void eachTokenNamesItsOperatorAndRole(@TempDir Path dir) {
        TmServerProperties p = props(dir, Map.of("tm.server.auth-token", "client-token-0123456789"));
        AdminCredentials c = AdminCredentials.of(p, ClientAuthToken.resolveAdmin(p), ClientAuthToken.resolve(p));
        assertThat(c.authenticate("Bearer " + ADMIN)).contains(new AdminIdentity("admin", AdminRole.RESOLVE));
        assertThat(c.authenticate("bearer " + READ)).contains(new AdminIdentity("admin-read", AdminRole.READ));
        assertThat(c.authenticate("Bearer " + JANE)).contains(new AdminIdentity("jane", AdminRole.RESOLVE));
        for (String refused : new String[] {null, "", "Bearer ", "Bearer client-token-0123456789", ADMIN, "Basic " + ADMIN, "Bearer " + ADMIN + " "}) {
            assertThat(c.authenticate(refused)).as(String.valueOf(refused)).isEmpty();
        }
        assertThat(c.toString()).contains("jane/resolve").doesNotContain(JANE).doesNotContain(ADMIN);
    }

    /** A configured client token equal to the admin token that was generated into its file is refused too. */
    @Test
    void theClientTokenMayNotBeTheGeneratedAdminToken(@TempDir Path dir) throws Exception {
        TmServerProperties withoutAdmin = new Binder(new MapConfigurationPropertySource(Map.of("tm.server.file.dir", dir.toString())))
                .bindOrCreate("tm.server", TmServerProperties.class);
        String generated = ClientAuthToken.resolveAdmin(withoutAdmin).value();
        TmServerProperties p = new Binder(new MapConfigurationPropertySource(Map.of("tm.server.file.dir", dir.toString(),
                "tm.server.auth-token", generated))).bindOrCreate("tm.server", TmServerProperties.class);
        assertThat(Files.readString(dir.resolve("admin-token")).strip()).isEqualTo(generated);
        assertThatThrownBy(() -> AdminCredentials.of(p, ClientAuthToken.resolveAdmin(p), ClientAuthToken.resolve(p)))
                .isInstanceOf(TokenRule.Violation.class).hasMessageContaining("must differ from the admin token of operator 'admin'")
                .hasMessageNotContaining(generated);
    }

    @Test
    void aReadRoleAllowsReadsOnly() {
        assertThat(AdminRole.READ.allows(AdminRole.READ)).isTrue();
        assertThat(AdminRole.READ.allows(AdminRole.RESOLVE)).isFalse();
        assertThat(AdminRole.RESOLVE.allows(AdminRole.READ)).isTrue();
        assertThat(AdminAuthFilter.needed("GET", "/api/v1/transactions")).contains(AdminRole.READ);
        assertThat(AdminAuthFilter.needed("POST", "/api/v1/transactions/g/commit")).contains(AdminRole.RESOLVE);
        assertThat(AdminAuthFilter.needed("DELETE", "/api/v1/transactions/g")).contains(AdminRole.RESOLVE);
        assertThat(AdminAuthFilter.needed("GET", "/actuator/prometheus")).contains(AdminRole.READ);
        assertThat(AdminAuthFilter.needed("GET", "/v3/api-docs")).contains(AdminRole.READ);
        assertThat(AdminAuthFilter.needed("GET", "/v3/api-docs.yaml")).contains(AdminRole.READ);
        assertThat(AdminAuthFilter.needed("GET", "/actuator/health")).isEmpty();
        assertThat(AdminAuthFilter.needed("GET", "/actuator/health/readiness")).isEmpty();
        assertThat(AdminAuthFilter.needed("GET", "/actuator/healthx")).contains(AdminRole.READ);
        assertThat(AdminAuthFilter.needed("GET", "/console/index.html")).isEmpty();
    }
}
