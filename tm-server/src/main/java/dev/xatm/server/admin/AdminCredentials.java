package dev.xatm.server.admin;

import dev.xatm.protocol.TokenRule;
import dev.xatm.coordinator.config.ClientAuthToken;
import dev.xatm.coordinator.config.TmServerProperties;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The admin tokens and whom each one names: {@code tm.server.admin-token} (or the generated
 * {@code <file.dir>/admin-token}) is operator "admin" with the resolve role, {@code tm.server.admin-read-token}
 * is "admin-read" with the read role, and each {@code tm.server.operators.<name>} is that name with its role.
 * TmServerProperties already refused short or equal configured tokens; the check here adds the one rule
 * it cannot see: the client token (perhaps read from its file) is none of these.
 *
 * <p>{@link #authenticate} compares SHA-256 digests with {@link MessageDigest#isEqual} against every
 * token, so its time tells nothing about which token came close, nor their lengths. Immutable, thread-safe;
 * {@link #toString()} names the operators, never a token.
 */
final class AdminCredentials {
    static final String ADMIN = "admin";
    static final String ADMIN_READ = "admin-read";
    private static final String SCHEME = "Bearer ";

    private record Credential(AdminIdentity identity, byte[] digest) {
    }

    private final List<Credential> credentials;

    private AdminCredentials(List<Credential> credentials) {
        this.credentials = List.copyOf(credentials);
    }

    static AdminCredentials of(TmServerProperties properties, ClientAuthToken adminToken, ClientAuthToken clientToken) {
        List<Credential> all = new ArrayList<>();
        all.add(new Credential(new AdminIdentity(ADMIN, AdminRole.RESOLVE), sha256(adminToken.value())));
        if (properties.adminReadToken() != null) {
            all.add(new Credential(new AdminIdentity(ADMIN_READ, AdminRole.READ), sha256(properties.adminReadToken())));
        }
        new TreeMap<>(properties.operators()).forEach((name, operator) -> all.add(new Credential(
                new AdminIdentity(name, AdminRole.valueOf(operator.role().toUpperCase(Locale.ROOT))), sha256(operator.token()))));
        byte[] client = sha256(clientToken.value());
        for (Credential c : all) {
            if (MessageDigest.isEqual(c.digest(), client)) {
                throw new TokenRule.Violation("the client token (tm.server.auth-token or <tm.server.file.dir>/auth-token) must differ from"
                        + " the admin token of operator '" + c.identity().name() + "': every service holds the client token,"
                        + " and it must not open the admin API");
            }
        }
        return new AdminCredentials(all);
    }

    /** The operator an {@code Authorization} header names, or empty for a missing, malformed or unknown token. */
    Optional<AdminIdentity> authenticate(String authorization) {
        if (authorization == null || authorization.length() <= SCHEME.length()
                || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return Optional.empty();
        }
        byte[] presented = sha256(authorization.substring(SCHEME.length()));
        AdminIdentity found = null;
        for (Credential c : credentials) { // no early exit: every token is compared
            if (MessageDigest.isEqual(c.digest(), presented)) {
                found = c.identity();
            }
        }
        return Optional.ofNullable(found);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "AdminCredentials" + credentials.stream().map(c -> c.identity().name() + "/" + c.identity().role().label()).toList();
    }
}
