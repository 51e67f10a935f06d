package dev.xatm.client.coordinator;

import dev.xatm.protocol.v1.CommitAnswer;
import dev.xatm.protocol.v1.CommitRequest;

import java.util.concurrent.CompletableFuture;

/**
 * Carries commit requests with votes on the agent's open Connect stream to the server that serves
 * their gtrid, instead of one Commit call (a new HTTP/2 stream with its headers) per transaction.
 * Implemented by the agent, which holds the streams. Thread-safe.
 */
public interface StreamCommitter {
    /**
     * Sends {@code request} on the stream to the server that serves its gtrid. Null when that server
     * is not connected or does not take commit requests on the stream (it predates them): the caller
     * then makes the Commit call. The future completes with the server's answer, or exceptionally when
     * the stream ends first ({@link #lostBeforeSending} tells whether the request may have left).
     */
    CompletableFuture<CommitAnswer> commit(CommitRequest request);

    /** The caller stopped waiting for the answer to {@code gtrid}'s request (its deadline passed). */
    void abandon(String gtrid);

    /** Whether {@code failure} of a {@link #commit} future means the request never left this process. */
    boolean lostBeforeSending(Throwable failure);
}
