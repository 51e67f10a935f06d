package dev.xatm.server.admin;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * {@code Authorization: Bearer <admin token>} on every {@code /api/v1/**} request, else 401 with an
 * Problem Details document ({@link Problems}). The comparison takes the same time whatever the guess, and neither the expected
 * nor the presented token is ever logged: a refusal logs the peer and the path only.
 */
final class AdminAuthFilter extends OncePerRequestFilter {
    private static final Logger log = LoggerFactory.getLogger(AdminAuthFilter.class);
    private static final String PREFIX = "Bearer ";

    private final byte[] expected;

    AdminAuthFilter(String token) {
        this.expected = (PREFIX + token).getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String presented = request.getHeader("Authorization");
        if (presented != null && MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.US_ASCII))) {
            chain.doFilter(request, response);
            return;
        }
        String path = request.getRequestURI();
        log.warn("Refused admin API {} {} from {}: {}", request.getMethod(), path.length() > 100 ? path.substring(0, 100) + "..." : path,
                request.getRemoteAddr(), presented == null ? "no Authorization header" : "wrong token");
        response.setHeader("WWW-Authenticate", "Bearer realm=\"xatm-admin\"");
        Problems.write(response, Problems.of(401, "unauthorized", "a valid admin bearer token is required (Authorization: Bearer <token>; "
                + "tm.server.admin-token, or the content of <tm.server.file.dir>/admin-token)"));
    }
}
