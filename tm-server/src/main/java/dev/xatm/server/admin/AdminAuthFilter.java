package dev.xatm.server.admin;

import dev.xatm.coordinator.transport.RefusalLog;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.security.Principal;
import java.util.Optional;

/**
 * Who may reach what on the admin HTTP port, decided by the path and the bearer token alone
 * ({@link AdminCredentials}):
 * <ul>
 *   <li>public: the health probes ({@code /actuator/health} and below; their details only with a token,
 *       see {@code management.endpoint.health.show-details=when-authorized}) and the console's static files;</li>
 *   <li>read role: {@code /api/v1/**} reads, every other {@code /actuator/**} endpoint (Prometheus, ...),
 *       the OpenAPI description {@code /v3/api-docs/**};</li>
 *   <li>resolve role: every {@code /api/v1/**} request that is not a read (the forced commit, rollback and
 *       forget are POSTs).</li>
 * </ul>
 * No token or an unknown one gets 401, a read token on a resolve call 403, both as Problem Details
 * ({@link Problems}). An accepted request carries its {@link AdminIdentity} as an attribute and as the
 * servlet principal (which is how Actuator decides to show health details). Neither the expected nor the
 * presented token is ever logged; refusals are logged through a {@link RefusalLog}, at most one line per
 * client address per minute. Applies to this port only: actuator on a separate {@code management.server.port}
 * is not behind it.
 */
final class AdminAuthFilter extends OncePerRequestFilter {
    private final AdminCredentials credentials;
    private final RefusalLog refusals;

    AdminAuthFilter(AdminCredentials credentials, RefusalLog refusals) {
        this.credentials = credentials;
        this.refusals = refusals;
    }

    /** The role a request needs, or empty for a public one. */
    static Optional<AdminRole> needed(String method, String path) {
        if (path.equals("/actuator/health") || path.startsWith("/actuator/health/")) {
            return Optional.empty();
        }
        if (path.startsWith("/api/v1/") || path.equals("/api/v1")) {
            return Optional.of(method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS") ? AdminRole.READ : AdminRole.RESOLVE);
        }
        if (path.equals("/actuator") || path.startsWith("/actuator/") || path.equals("/v3/api-docs") || path.startsWith("/v3/api-docs/")
                || path.startsWith("/v3/api-docs.")) {
            return Optional.of(AdminRole.READ);
        }
        return Optional.empty();
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        // the path as the servlet container will route it (decoded, ';' parameters removed, normalized)
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        Optional<AdminRole> needed = needed(request.getMethod(), path);
        String authorization = request.getHeader("Authorization");
        Optional<AdminIdentity> caller = credentials.authenticate(authorization);
        if (needed.isEmpty()) {
            chain.doFilter(caller.map(c -> authenticated(request, c)).orElse(request), response);
            return;
        }
        if (caller.isEmpty()) {
            refuse(request, authorization == null ? "no Authorization header" : "wrong token");
            response.setHeader("WWW-Authenticate", "Bearer realm=\"xatm-admin\"");
            Problems.write(response, Problems.of(401, "unauthorized", "a valid admin bearer token is required (Authorization: Bearer <token>;"
                    + " tm.server.admin-token, or the content of <tm.server.file.dir>/admin-token, or a read or operator token)"));
            return;
        }
        if (!caller.get().role().allows(needed.get())) {
            refuse(request, "operator '" + caller.get().name() + "' has the " + caller.get().role().label() + " role only");
            Problems.write(response, Problems.of(403, "forbidden", "the token of operator '" + caller.get().name() + "' may only read;"
                    + " forcing a commit, rollback or forget needs a token with the resolve role (tm.server.admin-token,"
                    + " or tm.server.operators.<name>.role=resolve)"));
            return;
        }
        chain.doFilter(authenticated(request, caller.get()), response);
    }

    private void refuse(HttpServletRequest request, String why) {
        String path = request.getRequestURI();
        refusals.refused(request.getRemoteAddr(), "Refused admin API " + request.getMethod() + " "
                + (path.length() > 100 ? path.substring(0, 100) + "..." : path) + " from " + request.getRemoteAddr() + ": " + why);
    }

    private static HttpServletRequest authenticated(HttpServletRequest request, AdminIdentity caller) {
        request.setAttribute(AdminIdentity.ATTRIBUTE, caller);
        return new HttpServletRequestWrapper(request) {
            @Override
            public Principal getUserPrincipal() {
                return caller;
            }

            @Override
            public boolean isUserInRole(String role) {
                return caller.role().label().equalsIgnoreCase(role) || caller.role() == AdminRole.RESOLVE && "read".equalsIgnoreCase(role);
            }

            @Override
            public String getRemoteUser() {
                return caller.name();
            }
        };
    }
}
