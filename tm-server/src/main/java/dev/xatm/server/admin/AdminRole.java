package dev.xatm.server.admin;

/**
 * What an admin token may do. {@link #READ}: every GET of the admin API (lists, detail, in-doubt list,
 * cluster view), the console's pages of data, the actuator endpoints beyond the health probes and the
 * OpenAPI description. {@link #RESOLVE}: all of that, and the forced commit, rollback and forget.
 */
public enum AdminRole {
    READ, RESOLVE;

    boolean allows(AdminRole needed) {
        return this == RESOLVE || needed == READ;
    }

    /** As the journal and the configuration spell it: "read", "resolve". */
    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
