package dev.xatm.server.admin;

/** A request the admin API refuses, with the HTTP status and {@code error} code of the Problem Details it answers with ({@link Problems}). */
final class ApiException extends RuntimeException {
    final int status;
    final String error;

    ApiException(int status, String error, String message) {
        super(message, null, false, false); // control flow, not a failure: no stack trace to fill
        this.status = status;
        this.error = error;
    }

    static ApiException badRequest(String message) {
        return new ApiException(400, "invalid_argument", message);
    }

    static ApiException notFound(String message) {
        return new ApiException(404, "not_found", message);
    }

    static ApiException conflict(String message) {
        return new ApiException(409, "conflict", message);
    }

    static ApiException unavailable(String message) {
        return new ApiException(503, "unavailable", message);
    }
}
