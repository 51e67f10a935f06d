package dev.xatm.server.recovery;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The databases the server may reach itself, to finish a branch whose agent is gone for good
 * ({@code tm.server.resources.<resource id>.url / .username / .password}; the resource id is the one
 * agents register branches with). Optional: without it, forced resolutions go through agents only.
 *
 * <p>{@link #toString()} never shows a password, and nothing here is ever logged with one.
 */
@ConfigurationProperties("tm.server")
public record RecoveryResources(Map<String, Resource> resources) {

    public RecoveryResources {
        resources = resources == null ? Map.of() : Map.copyOf(new LinkedHashMap<>(resources));
        resources.forEach((id, r) -> r.check(id));
    }

    /**
     * @param url      {@code jdbc:postgresql:...} or {@code jdbc:mariadb:...} / {@code jdbc:mysql:...} (MariaDB driver)
     * @param username the database account (needs XA_RECOVER_ADMIN on MySQL 8)
     * @param password its password; never shown
     */
    public record Resource(String url, String username, String password) {

        void check(String id) {
            if (url == null || !(url.startsWith("jdbc:postgresql:") || url.startsWith("jdbc:mariadb:") || url.startsWith("jdbc:mysql:"))) {
                throw new IllegalArgumentException("tm.server.resources." + id + ".url must be a jdbc:postgresql:, jdbc:mariadb: or"
                        + " jdbc:mysql: URL");
            }
        }

        boolean isPostgres() {
            return url.toLowerCase(Locale.ROOT).startsWith("jdbc:postgresql:");
        }

        @Override
        public String toString() {
            return "Resource{" + (isPostgres() ? "postgresql" : "mariadb") + ", user=" + username + ", password=<hidden>}";
        }
    }
}
