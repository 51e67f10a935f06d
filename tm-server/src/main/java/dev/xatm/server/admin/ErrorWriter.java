package dev.xatm.server.admin;

import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Writes an {@link ApiError} straight to the response, bypassing content negotiation: an error must
 * come out as JSON even for a client that sent {@code Accept: text/html} or nothing at all.
 */
final class ErrorWriter {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ErrorWriter() {}

    static void write(HttpServletResponse response, int status, String error, String message) throws IOException {
        if (response.isCommitted()) {
            return;
        }
        response.resetBuffer();
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.getOutputStream().write(JSON.writeValueAsBytes(new ApiError(error, message)));
        response.flushBuffer();
    }

    static String errorCode(int status) {
        return switch (status) {
            case 400 -> "invalid_argument";
            case 401 -> "unauthorized";
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
}
