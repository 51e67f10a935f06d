package dev.xatm.server.admin;

import java.security.Principal;

/**
 * Who called the admin API, as established by the token they sent: the operator's name ("admin" for
 * tm.server.admin-token, "admin-read" for tm.server.admin-read-token, the configured name for
 * tm.server.operators.&lt;name&gt;) and the token's role. This, never a name in the request, is what the
 * operator journal records. Set as a request attribute by {@link AdminAuthFilter}.
 */
public record AdminIdentity(String name, AdminRole role) implements Principal {
    static final String ATTRIBUTE = AdminIdentity.class.getName();

    @Override
    public String getName() {
        return name;
    }
}
