package dev.xatm.core;

/** Why a request was refused. Mirrors gRPC status codes so the transport maps them one to one. */
public enum ErrorCode {
    /** Malformed input: the request can never succeed as sent. */
    INVALID_ARGUMENT,
    /** The gtrid (or the bqual) is not known to the coordinator. */
    NOT_FOUND,
    /** A begin for a gtrid that exists, or a bqual registered twice with different attributes. */
    ALREADY_EXISTS,
    /** The transaction is not in a state that allows the request (e.g. registering on a finished one). */
    FAILED_PRECONDITION,
    /** A configured bound was hit (e.g. too many branches, too many live transactions). */
    RESOURCE_EXHAUSTED,
    /**
     * An agent spoke for a branch it does not hold: a vote or acknowledgement for another agent's
     * branch. Nothing changed; the driver counts these, since an honest agent never sends one.
     */
    PERMISSION_DENIED
}
