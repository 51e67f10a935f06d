package dev.xatm.server.admin;

/**
 * Every error the admin API answers, whatever went wrong: a stable machine-readable {@code error}
 * code and a sentence for a human. Never a stack trace, never a secret.
 *
 * @param error   invalid_argument, unauthorized, not_found, method_not_allowed, conflict,
 *                payload_too_large, unsupported_media_type, unavailable, internal
 * @param message what was wrong with the request, or what to do
 */
public record ApiError(String error, String message) {}
