package dev.xatm.server.admin;

import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.json.ProblemDetailJacksonMixin;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Every error of the admin HTTP server as an RFC 9457 Problem Details document
 * ({@code application/problem+json}): {@code type}, {@code title}, {@code status} and {@code detail},
 * plus two extension members kept for one release for clients written against the earlier
 * {@code {error, message}} body: {@code error} (a stable code such as {@code invalid_argument}) and
 * {@code message} (the same sentence as {@code detail}). Never a stack trace, never a secret, and
 * nothing of the request echoed unless the caller chose to.
 *
 * <p>Written straight to the response, bypassing content negotiation: an error must come out in this
 * form even for a client that sent {@code Accept: text/html}, and from places Spring MVC never sees
 * (a servlet filter, Tomcat's error valve). Thread-safe.
 */
final class Problems {
    static final String MEDIA_TYPE = "application/problem+json";
    // Spring's mix-in flattens the extension members into the top level, as RFC 9457 wants them.
    private static final JsonMapper JSON = JsonMapper.builder().addMixIn(ProblemDetail.class, ProblemDetailJacksonMixin.class).build();

    private Problems() {}

    /** A problem with the standard title for {@code status}, and the legacy members beside {@code detail}. */
    static ProblemDetail of(int status, String error, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatusCode.valueOf(status), detail);
        HttpStatus known = HttpStatus.resolve(status);
        problem.setTitle(known == null ? "Error" : known.getReasonPhrase());
        problem.setProperty("error", error);
        problem.setProperty("message", detail);
        return problem;
    }

    /** The same, for a status alone: its code from {@link #errorCode} and a fixed sentence from {@link #sentence}. */
    static ProblemDetail of(int status) {
        return of(status, errorCode(status), sentence(status));
    }

    static byte[] json(ProblemDetail problem) {
        return JSON.writeValueAsBytes(problem);
    }

    static void write(HttpServletResponse response, ProblemDetail problem) throws IOException {
        if (response.isCommitted()) {
            return;
        }
        response.resetBuffer();
        response.setStatus(problem.getStatus());
        response.setContentType(MEDIA_TYPE);
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.getOutputStream().write(json(problem));
        response.flushBuffer();
    }

    static String errorCode(int status) {
        return switch (status) {
            case 400 -> "invalid_argument";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 406 -> "not_acceptable";
            case 409 -> "conflict";
            case 413 -> "payload_too_large";
            case 414 -> "uri_too_long";
            case 415 -> "unsupported_media_type";
            case 503 -> "unavailable";
            default -> status >= 500 ? "internal" : "bad_request";
        };
    }

    /** A fixed sentence per status, for errors that carry no reason of their own: nothing of the request is echoed. */
    static String sentence(int status) {
        return switch (status) {
            case 400 -> "the request is malformed";
            case 401 -> "a valid bearer token is required";
            case 403 -> "this token may not do that";
            case 404 -> "no such resource; the admin API lives under /api/v1/transactions, its description at /v3/api-docs";
            case 405 -> "this method is not allowed on this resource";
            case 406 -> "only application/json is served";
            case 413 -> "the request body is too large";
            case 414 -> "the request line is too long";
            case 415 -> "the request body must be application/json";
            default -> status >= 500 ? "internal error; see the server log" : "the request was refused";
        };
    }
}
