package dev.xatm.server.admin;

import dev.xatm.core.Ids;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Who asks for a forced commit, rollback or forget, and why. Who: the operator named by the token
 * that authenticated the request ({@link AdminIdentity}, set by {@link AdminAuthFilter}), and nothing
 * else: a name in the request could be anybody's, so an {@code "operator"} field in the body or an
 * {@code X-Operator} header is refused with 400 (not ignored: a script that believes it records a
 * name learns at once that it does not). Why: the optional JSON body {@code {"reason": "ticket 42"}}.
 *
 * <p>Every malformed body is refused with a 4xx before anything happens: not JSON, {@code null}, an
 * array, an unknown field, a reason that is not bounded printable ASCII, a Content-Type that is
 * not JSON or not even a media type, a body over {@value #MAX_BODY_BYTES} bytes.
 *
 * @param operator the token's operator name, recorded in the history
 * @param role     the token's role ("resolve": only a resolve token gets this far)
 * @param reason   why, 1..{@value #MAX_REASON_CHARS} printable ASCII characters, or null
 */
record OperatorRequest(String operator, String role, String reason) {
    static final int MAX_BODY_BYTES = 4096;
    static final int MAX_REASON_CHARS = 500;
    static final String OPERATOR_HEADER = "X-Operator";
    private static final Set<String> FIELDS = Set.of("reason");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    static OperatorRequest read(HttpServletRequest request) {
        if (!(request.getAttribute(AdminIdentity.ATTRIBUTE) instanceof AdminIdentity caller)) {
            throw new ApiException(401, "unauthorized", "a valid admin bearer token is required");
        }
        if (request.getHeader(OPERATOR_HEADER) != null) {
            throw ApiException.badRequest(OPERATOR_HEADER + " is not accepted: the operator recorded is the one the token names ('"
                    + caller.name() + "'); give each operator a token of their own (tm.server.operators.<name>.token)");
        }
        String operator = caller.name();
        String role = caller.role().label();
        byte[] body = body(request);
        if (new String(body, StandardCharsets.UTF_8).isBlank()) {
            return new OperatorRequest(operator, role, null);
        }
        requireJson(request.getContentType());
        JsonNode fields;
        try {
            fields = JSON.readTree(body);
        } catch (JacksonException e) {
            fields = null;
        }
        if (fields == null || !fields.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object like {\"operator\": \"jane\", \"reason\": \"ticket 42\"}");
        }
        for (String key : fields.propertyNames()) {
            if (key.equals("operator")) {
                throw ApiException.badRequest("\"operator\" is not accepted: the operator recorded is the one the token names ('"
                        + caller.name() + "'); give each operator a token of their own (tm.server.operators.<name>.token)");
            }
            if (!FIELDS.contains(key)) {
                throw ApiException.badRequest("unknown field " + Ids.quote(key) + "; the body may only hold \"reason\"");
            }
        }
        JsonNode why = fields.get("reason");
        String reason = null;
        if (why != null && !why.isNull()) {
            if (!why.isString() || !printable(why.asString(), MAX_REASON_CHARS)) {
                throw ApiException.badRequest("reason must be a string of 1.." + MAX_REASON_CHARS + " printable ASCII characters");
            }
            reason = why.asString();
        }
        return new OperatorRequest(operator, role, reason);
    }

    /** Who did it, for the history: "jane (resolve token)". */
    String who() {
        return operator + " (" + role + " token)";
    }

    private static byte[] body(HttpServletRequest request) {
        if (request.getContentLengthLong() > MAX_BODY_BYTES) {
            throw tooLarge();
        }
        byte[] body;
        try {
            body = request.getInputStream().readNBytes(MAX_BODY_BYTES + 1);
        } catch (IOException e) {
            throw ApiException.badRequest("the body could not be read");
        }
        if (body.length > MAX_BODY_BYTES) {
            throw tooLarge();
        }
        return body;
    }

    private static void requireJson(String type) {
        if (type == null) {
            return; // curl -d without -H: read as JSON, as before
        }
        MediaType parsed;
        try {
            parsed = MediaType.parseMediaType(type);
        } catch (InvalidMediaTypeException e) {
            throw new ApiException(415, "unsupported_media_type", "the Content-Type is not a media type; the body must be application/json");
        }
        if (!parsed.isCompatibleWith(MediaType.APPLICATION_JSON) || parsed.isWildcardType() || parsed.isWildcardSubtype()) {
            throw new ApiException(415, "unsupported_media_type", "the body must be application/json, got " + Ids.quote(type));
        }
    }

    private static ApiException tooLarge() {
        return new ApiException(413, "payload_too_large", "the body must be at most " + MAX_BODY_BYTES + " bytes");
    }

    private static boolean printable(String s, int maxChars) {
        return !s.isBlank() && s.length() <= maxChars && s.chars().allMatch(c -> c >= 0x20 && c <= 0x7E);
    }
}
