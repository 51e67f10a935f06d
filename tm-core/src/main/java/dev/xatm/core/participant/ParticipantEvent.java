package dev.xatm.core.participant;

import dev.xatm.core.Action;

import java.util.List;

/**
 * Everything that can happen to a participant. The driver (the agent) turns business-thread calls,
 * phase commands from its streams, XA results, timer expiries and stream changes into events and
 * feeds them, one at a time, to {@link Participant#step}. Time enters only through the events'
 * {@code nowMillis}: the core has no clock.
 */
public sealed interface ParticipantEvent {

    // ---- the business code ----

    /**
     * XA START succeeded on a connection the business code now holds (one holder).
     *
     * @param server the coordinator node the branch was registered with; null if none yet (a branch
     *               that rides on its caller's one-round-trip commit)
     */
    record Enlisted(BranchKey key, String resourceId, String server) implements ParticipantEvent {}

    /** Another scope of the business code holds the branch's connection. */
    record Held(BranchKey key) implements ParticipantEvent {}

    /**
     * A scope lets go of the branch. {@code wrote}: something that may write ran on it; {@code failed}:
     * the scope failed, so phase 1 must vote NO. A phase command parked while the branch was held runs
     * when the last holder lets go.
     */
    record Released(BranchKey key, boolean wrote, boolean failed) implements ParticipantEvent {}

    /**
     * The business code gives up on a branch that is not prepared (its transaction rolled back, its
     * session died): it is rolled back, nobody is answered.
     */
    record Abandoned(BranchKey key) implements ParticipantEvent {}

    /**
     * The application thread that began the transaction runs a phase command on its own branch (the
     * one-round-trip commit, and the cheap 3PC): the answer goes back to it, not on a stream. A branch
     * it prepares is never inquired about until {@link CallerDone}: the coordinator may not know the
     * transaction yet.
     */
    record CallerCommand(BranchKey key, Action action, long participantTimeoutMillis, long nowMillis)
            implements ParticipantEvent {}

    /**
     * That thread is done with its branch (it answered, or gave up): the agent may inquire about it again.
     * {@code outcomeUnknown}: the thread could not learn the transaction's outcome (its commit request's
     * answer was lost with the stream or the call), so a branch it left prepared is asked about at once,
     * on an open stream, rather than at the next reconnect or re-inquiry.
     */
    record CallerDone(BranchKey key, boolean outcomeUnknown) implements ParticipantEvent {
        /** The thread learnt the outcome (or never prepared the branch): nothing to ask now. */
        public CallerDone(BranchKey key) {
            this(key, false);
        }
    }

    // ---- the coordinators ----

    /** A phase command from {@code server}'s stream; {@code participantTimeoutMillis} as the command carried it. */
    record Command(String server, BranchKey key, Action action, long participantTimeoutMillis, long nowMillis)
            implements ParticipantEvent {}

    /** The stream to {@code server} is open (again): inquire, report own decisions, run XA RECOVER. */
    record Connected(String server, long nowMillis) implements ParticipantEvent {}

    /**
     * The stream to {@code server} ended: its unprepared branches (XA-started, or willing after a YES to
     * CAN_COMMIT) are rolled back, since that server aborts them; prepared ones wait for the decision.
     */
    record Disconnected(String server) implements ParticipantEvent {}

    /**
     * {@code server} refused an inquiry or a message about {@code gtrid}. {@code notMine}: the gtrid
     * is another deployment's, leave its branches alone for good; otherwise (an unknown gtrid, a
     * transaction not yet known) the prepared branches of that gtrid are asked about again.
     */
    record Refused(String server, String gtrid, boolean notMine) implements ParticipantEvent {}

    // ---- the driver ----

    /**
     * An XA call of an earlier step ran; for a batch of calls of one branch, the last call that ran
     * (a batch stops at the first result that is not {@link XaResult#OK}, except after
     * {@link XaOp#END_FAIL}).
     */
    record XaCompleted(BranchKey key, XaOp op, XaResult result) implements ParticipantEvent {}

    /** XA RECOVER on {@code resourceId} listed these branches (prepared, or remembered heuristically). */
    record Recovered(String resourceId, List<BranchKey> listed, long nowMillis) implements ParticipantEvent {
        public Recovered {
            listed = List.copyOf(listed);
        }
    }

    /** A timer the core armed ran out. */
    record TimerFired(BranchKey key, long token, long nowMillis) implements ParticipantEvent {}

    /**
     * The periodic recovery sweep: XA RECOVER on every resource, and the prepared branches nobody
     * spoke of for {@link ParticipantConfig#reinquireMillis} are asked about again.
     */
    record Sweep(long nowMillis) implements ParticipantEvent {}
}
