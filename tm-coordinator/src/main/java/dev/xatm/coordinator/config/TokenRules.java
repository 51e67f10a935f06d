package dev.xatm.coordinator.config;

import dev.xatm.protocol.TokenRule;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The rules between tm-server's configured tokens, checked once when {@code tm.server.*} is bound
 * (each token's own length rule is {@link TokenRule}):
 * <ul>
 *   <li>the client token ({@code tm.server.auth-token}) is none of the admin tokens: every business
 *       service holds the client token, and none of them may force an outcome or read every
 *       transaction;</li>
 *   <li>no two admin tokens are equal: a token names exactly one operator with one role, which is
 *       what the operator journal records;</li>
 *   <li>every named operator has a token and a name of {@code [a-z0-9][a-z0-9._-]{0,63}}, other than
 *       "admin" and "admin-read" (the operators of the two unnamed tokens).</li>
 * </ul>
 * A breach is a {@link TokenRule.Violation} whose message names the properties, never a value.
 * Generated tokens are random, so they never collide with each other or with a configured one.
 */
final class TokenRules {
    private static final Pattern OPERATOR_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private TokenRules() {
    }

    static void requireDistinct(String authToken, String adminToken, String adminReadToken, Map<String, TmServerProperties.Operator> operators) {
        List<Map.Entry<String, String>> admin = new ArrayList<>();
        admin.add(Map.entry("tm.server.admin-token", Objects.requireNonNullElse(adminToken, "")));
        admin.add(Map.entry("tm.server.admin-read-token", Objects.requireNonNullElse(adminReadToken, "")));
        operators.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            String property = "tm.server.operators." + e.getKey() + ".token";
            if (!OPERATOR_NAME.matcher(e.getKey()).matches()) {
                throw new TokenRule.Violation("tm.server.operators.<name>: the name must be 1..64 characters of [a-z0-9._-]"
                        + " starting with a letter or digit");
            }
            if (e.getKey().equals("admin") || e.getKey().equals("admin-read")) {
                // the operators of tm.server.admin-token and admin-read-token: a second one would make the journal ambiguous
                throw new TokenRule.Violation("tm.server.operators." + e.getKey() + ": the names 'admin' and 'admin-read' are taken by"
                        + " tm.server.admin-token and tm.server.admin-read-token; choose another name");
            }
            String token = ClientAuthToken.checkConfigured(property, e.getValue().token());
            if (token == null) {
                throw new TokenRule.Violation(property + " is not set; every named operator needs its own token");
            }
            admin.add(Map.entry(property, token));
        });
        for (int i = 0; i < admin.size(); i++) {
            String value = admin.get(i).getValue();
            if (value.isEmpty()) {
                continue;
            }
            if (value.equals(authToken)) {
                throw new TokenRule.Violation("tm.server.auth-token must differ from " + admin.get(i).getKey()
                        + ": every service holds the client token, and it must not open the admin API");
            }
            for (int j = i + 1; j < admin.size(); j++) {
                if (value.equals(admin.get(j).getValue())) {
                    throw new TokenRule.Violation(admin.get(i).getKey() + " must differ from " + admin.get(j).getKey()
                            + ": each admin token names one operator with one role");
                }
            }
        }
    }
}
