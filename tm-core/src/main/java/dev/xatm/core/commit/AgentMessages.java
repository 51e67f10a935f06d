package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.Ids;
import dev.xatm.core.Outbound;
import dev.xatm.core.RequestKind;
import dev.xatm.core.view.HistoryEntry.Kind;

import java.util.Set;
import java.util.function.LongSupplier;

import static dev.xatm.core.commit.Coordinator.reject;

/**
 * The agents' messages (rules 4, 5, 9): votes, acknowledgements, inquiries, and the shared store's
 * answer to an inquiry about a gtrid this coordinator does not own ({@link Event.StoreVerdict}). Who
 * may speak for a branch is {@link Speakers}'; what a message does to its transaction is
 * {@link TwoPhase}'s and {@link ThreePhase}'s. Part of {@link Coordinator}; same thread as its
 * {@code step}, not thread-safe.
 */
final class AgentMessages {
    private final CoordinatorConfig config;
    private final TxnTable txns;
    private final TwoPhase twoPhase;
    private final ThreePhase threePhase;
    private final Speakers speakers;
    private final InquiryAnswers inquiries;
    /** Agents whose stream ended: an unknown gtrid is not presumed aborted to one of them. */
    private final Set<String> goneAgents;
    private final LongSupplier clock;

    AgentMessages(CoordinatorConfig config, TxnTable txns, TwoPhase twoPhase, ThreePhase threePhase, Speakers speakers,
                  Set<String> goneAgents, LongSupplier clock) {
        this.config = config;
        this.txns = txns;
        this.twoPhase = twoPhase;
        this.threePhase = threePhase;
        this.speakers = speakers;
        this.goneAgents = goneAgents;
        this.clock = clock;
        this.inquiries = new InquiryAnswers(config, goneAgents, twoPhase);
    }

    private long now() {
        return clock.getAsLong();
    }

    void onVote(Event.VoteReceived e, Effects.Builder out) {
        if (e.agentId() == null) {
            reject(out, e.gtrid(), RequestKind.VOTE, ErrorCode.INVALID_ARGUMENT, "a vote must name the agent whose stream carried it");
            return;
        }
        GlobalTxn t = txns.find(e.gtrid());
        BranchProgress b = t == null ? null : t.branch(e.bqual());
        if (b == null) {
            // The driver returns the rejection to the agent, which then inquires (presumed abort).
            reject(out, e.gtrid(), RequestKind.VOTE, ErrorCode.NOT_FOUND,
                    "branch " + Ids.quote(e.bqual()) + " of " + Ids.quote(e.gtrid()) + " is not known");
            return;
        }
        if (!speakers.mayVote(b, e.agentId())) {
            refuseForeign(t, b, e.agentId(), RequestKind.VOTE, "vote " + e.vote(), out);
            return;
        }
        if (e.vote() == null) {
            reject(out, e.gtrid(), RequestKind.VOTE, ErrorCode.INVALID_ARGUMENT, "a vote is required");
            return;
        }
        Action answering = e.answering() == null ? Action.PREPARE : e.answering();
        if (answering == Action.CAN_COMMIT || answering == Action.PRE_COMMIT) {
            threePhase.vote(t, b, e.vote(), answering, now(), out);
        } else {
            twoPhase.vote(t, b, e.vote(), now(), out);
        }
        txns.retireIfFinished(t);
    }

    /**
     * A vote or acknowledgement from an agent that does not hold the branch ({@link Speakers}): refused,
     * with nothing changed but a note in the history, so that an operator sees who tried.
     */
    private void refuseForeign(GlobalTxn t, BranchProgress b, String agentId, RequestKind kind, String what,
                               Effects.Builder out) {
        t.note(now(), Kind.FOREIGN_REFUSED, b.bqual(), what + " from agent " + agentId + " refused: the branch is held by "
                + b.agentId());
        reject(out, t.gtrid(), kind, ErrorCode.PERMISSION_DENIED, "branch " + Ids.quote(b.bqual()) + " of " + Ids.quote(t.gtrid())
                + " is held by another agent; an agent may only " + (kind == RequestKind.VOTE ? "vote for" : "acknowledge")
                + " its own branches");
    }

    void onAck(Event.AckReceived e, Effects.Builder out) {
        if (e.agentId() == null) {
            reject(out, e.gtrid(), RequestKind.ACK, ErrorCode.INVALID_ARGUMENT,
                    "an acknowledgement must name the agent whose stream carried it");
            return;
        }
        GlobalTxn known = txns.find(e.gtrid());
        BranchProgress own = known == null ? null : known.branch(e.bqual());
        if (own != null && !speakers.mayAck(own, e.agentId())) {
            refuseForeign(known, own, e.agentId(), RequestKind.ACK, e.action() + " " + e.result(), out);
            return;
        }
        GlobalTxn t = txns.live(e.gtrid());
        BranchProgress b = t == null ? null : t.branch(e.bqual());
        if (b != null) {
            if (e.autonomous() && e.result() == AckResult.DONE) {
                threePhase.participantDecided(t, b, e.action(), now(), out);
            } else {
                twoPhase.ack(t, b, e.action(), e.result(), now(), out);
            }
            txns.retireIfFinished(t);
            return;
        }
        GlobalTxn finished = txns.finished(e.gtrid());
        if (e.autonomous() && e.action() == Action.COMMIT && e.result() == AckResult.DONE && finished != null
                && finished.decidedRollback()) {
            // 3PC's partition hazard, reported after the rollback finished: never dropped silently.
            finished.note(now(), Kind.PARTICIPANT_DECIDED, e.bqual(), "committed on its own while the decision was"
                    + " ROLLBACK (3PC's partition hazard)");
            if (own != null) {
                own.autonomous(Action.COMMIT); // the admin view must say who decided, not only that it is heuristic
            }
            if (twoPhase.lateHeuristic(finished, e.bqual(), AckResult.HEURISTIC_COMMIT, now(), out)) {
                txns.hold(finished);
            }
            return;
        }
        if (e.autonomous() && e.action() == Action.COMMIT && e.result() == AckResult.DONE && finished == null) {
            // A participant committed on its own a transaction this coordinator no longer knows (forgotten, or
            // rolled back and closed before a restart): presumed abort says rolled back, so it is a heuristic
            // commit nobody recorded. Refused like any heuristic for an unknown gtrid, so that the agent and the
            // server log see it instead of it being dropped.
            reject(out, e.gtrid(), RequestKind.ACK, ErrorCode.NOT_FOUND, "branch " + Ids.quote(e.bqual()) + " of "
                    + Ids.quote(e.gtrid()) + " committed on its own (3PC participant timeout), but this coordinator does not"
                    + " know the transaction (presumed rolled back); an operator must reconcile it at the database");
            return;
        }
        if (e.result() == null || !e.result().isHeuristic()) {
            if (finished != null && e.result() == AckResult.DONE) {
                // A branch the rollback finished without (its agent was gone) acknowledged after all: the
                // returning agent's inquiry got ROLLBACK. Recorded, so the view shows its final state.
                inquiries.lateAck(finished, e.bqual(), e.action(), now());
            }
            return; // otherwise acks for unknown or finished transactions repeat work already counted: ignored
        }
        // A heuristic is never dropped silently: a finished transaction is held for an
        // operator again; for an unknown one the refusal reaches the agent and the server's log.
        GlobalTxn done = txns.finished(e.gtrid());
        if (done != null && twoPhase.lateHeuristic(done, e.bqual(), e.result(), now(), out)) {
            txns.hold(done);
        } else if (done == null) {
            reject(out, e.gtrid(), RequestKind.ACK, ErrorCode.NOT_FOUND, "heuristic outcome " + e.result() + " reported for branch "
                    + Ids.quote(e.bqual()) + " of " + Ids.quote(e.gtrid()) + ", a transaction this coordinator does not know;"
                    + " an operator must reconcile it at the database");
        }
    }

    void onInquiry(Event.Inquiry e, Effects.Builder out) {
        if (!Ids.isValidId(e.gtrid()) || !Ids.isValidId(e.bqual()) || e.agentId() == null) {
            // Not one of our xids (the agent filters by format id), so there is nothing to answer.
            reject(out, e.gtrid(), RequestKind.INQUIRY, ErrorCode.INVALID_ARGUMENT,
                    "inquiry needs a valid gtrid, bqual and agent id, got " + Ids.quote(e.gtrid()) + "/" + Ids.quote(e.bqual()));
            return;
        }
        if (config.foreignGtrid(e.gtrid())) {
            // Another deployment's branch, seen by XA RECOVER on a database server both use. Presuming it
            // aborted could roll back what that deployment committed: answer that it is not ours, nothing else.
            reject(out, e.gtrid(), RequestKind.INQUIRY, ErrorCode.FAILED_PRECONDITION, Coordinator.notMine(e.gtrid(), config.clusterId()));
            return;
        }
        GlobalTxn t = txns.live(e.gtrid());
        if (t != null) {
            inquiries.inquiry(t, e.bqual(), e.agentId(), now(), out);
            // 3PC: a branch held prepared is the PRE_COMMIT YES that may have been lost.
            BranchProgress b = t.branch(e.bqual());
            if (b != null && b.agentId().equals(e.agentId())) {
                threePhase.inquiryAnswers(t, b, now(), out);
                txns.retireIfFinished(t);
            }
            return;
        }
        GlobalTxn done = txns.finished(e.gtrid());
        if (done != null) {
            inquiries.inquiryFinished(done, e.bqual(), e.agentId(), now(), out);
        } else if (e.presumeAbort() && !goneAgents.contains(e.agentId())) {
            // Presumed abort: no decision record survives for this gtrid, so it never committed. Remembered
            // as rolled back, so that a commit with votes for it still on its way is answered ROLLED_BACK
            // instead of committing around the branch this ROLLBACK undoes.
            txns.addRemembered(GlobalTxn.presumedAborted(e.gtrid(), now()));
            out.send(new Outbound(e.agentId(), e.gtrid(), e.bqual(), Action.ROLLBACK));
        }
    }

    /**
     * Rule R4's answer, brought by the driver ({@link Event.StoreVerdict}). A gtrid known here by now
     * is answered from what this coordinator knows, never presumed; otherwise COMMIT is sent to the
     * asking agent, ROLLBACK is the presumed abort of an unknown gtrid, and ASK_OWNER sends nothing.
     */
    void onStoreVerdict(Event.StoreVerdict e, Effects.Builder out) {
        Event.Inquiry asked = new Event.Inquiry(e.gtrid(), e.bqual(), e.resourceId(), e.agentId(), false);
        if (!Ids.isValidId(e.gtrid()) || !Ids.isValidId(e.bqual()) || e.agentId() == null || config.foreignGtrid(e.gtrid())
                || txns.find(e.gtrid()) != null) {
            onInquiry(asked, out); // refused as an inquiry would be, or answered by the state machine
            return;
        }
        switch (e.verdict()) {
            // The owner (or its adopter) holds the transaction and collects the acknowledgements; the
            // agent's DONE reaching this server is ignored, as for any gtrid it does not know.
            case COMMIT -> out.send(new Outbound(e.agentId(), e.gtrid(), e.bqual(), Action.COMMIT));
            // No COMMIT can ever exist: the presumed abort of an unknown gtrid, remembered here.
            case ROLLBACK -> onInquiry(new Event.Inquiry(e.gtrid(), e.bqual(), e.resourceId(), e.agentId(), true), out);
            case ASK_OWNER -> { }
        }
    }
}
