package dev.xatm.core.commit;

import dev.xatm.core.Branch;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.Ids;
import dev.xatm.core.Outcome;
import dev.xatm.core.Protocol;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.view.HistoryEntry.Kind;

import java.util.Set;
import java.util.function.LongSupplier;

import static dev.xatm.core.commit.Coordinator.reject;

/**
 * The client requests of the coordinator-driven path (rules 1, 2, 3, 10): Begin, RegisterBranch,
 * Commit and Rollback, validated and looked up here, then handed to {@link TwoPhase} or
 * {@link ThreePhase}. Part of {@link Coordinator}; same thread as its {@code step}, not thread-safe.
 */
final class ClientRequests {
    private final CoordinatorConfig config;
    private final TxnTable txns;
    private final TwoPhase twoPhase;
    private final ThreePhase threePhase;
    /** The coordinator's connected agents: a branch joins only on one of them. */
    private final Set<String> connectedAgents;
    private final LongSupplier clock;

    ClientRequests(CoordinatorConfig config, TxnTable txns, TwoPhase twoPhase, ThreePhase threePhase, Set<String> connectedAgents,
                   LongSupplier clock) {
        this.config = config;
        this.txns = txns;
        this.twoPhase = twoPhase;
        this.threePhase = threePhase;
        this.connectedAgents = connectedAgents;
        this.clock = clock;
    }

    private long now() {
        return clock.getAsLong();
    }

    void onBegin(Event.Begin e, Effects.Builder out) {
        String gtrid = e.gtrid();
        if (!Ids.isValidId(gtrid)) {
            reject(out, gtrid, RequestKind.BEGIN, ErrorCode.INVALID_ARGUMENT,
                    "gtrid must be 1.." + Ids.MAX_ID_BYTES + " characters of [A-Za-z0-9._:-], got " + Ids.quote(gtrid));
            return;
        }
        String name = e.name() == null ? "" : e.name();
        if (name.length() > Ids.MAX_NAME_CHARS) {
            // The name goes into the decision record: bounded so it cannot bloat the log.
            reject(out, gtrid, RequestKind.BEGIN, ErrorCode.INVALID_ARGUMENT,
                    "name must be at most " + Ids.MAX_NAME_CHARS + " characters, got " + name.length());
            return;
        }
        if (txns.find(gtrid) != null) {
            reject(out, gtrid, RequestKind.BEGIN, ErrorCode.ALREADY_EXISTS, "transaction " + gtrid + " exists already");
            return;
        }
        // Held ones count too: they are never dropped, so they must be bounded by refusing new work.
        if (txns.liveCount() + txns.heldCount() >= config.maxLiveTxns()) {
            reject(out, gtrid, RequestKind.BEGIN, ErrorCode.RESOURCE_EXHAUSTED,
                    "the coordinator holds " + txns.liveCount() + " unfinished transactions and " + txns.heldCount()
                            + " waiting for an operator, the configured maximum");
            return;
        }
        Protocol protocol = e.protocol() == null ? config.defaultProtocol() : e.protocol();
        txns.addLive(GlobalTxn.begun(gtrid, name, protocol, e.deadlineMillis(), now()));
        out.reply(new Reply.Begun(gtrid, e.deadlineMillis()));
    }

    void onRegisterBranch(Event.RegisterBranch e, Effects.Builder out) {
        String gtrid = e.gtrid();
        Branch branch = e.branch();
        if (!Ids.isValidId(gtrid) || branch == null) {
            reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.INVALID_ARGUMENT,
                    "a valid gtrid and a branch are required, got gtrid " + Ids.quote(gtrid));
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null) {
            if (txns.finished(gtrid) != null) {
                reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.FAILED_PRECONDITION,
                        "transaction " + gtrid + " is finished (" + txns.finished(gtrid).outcome() + ")");
            } else {
                reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.NOT_FOUND, "transaction " + gtrid + " is not known");
            }
            return;
        }
        if (t.state() != GlobalTxn.State.ACTIVE) {
            reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.FAILED_PRECONDITION,
                    "transaction " + gtrid + " is " + t.state().status + "; branches can only join an ACTIVE one");
            return;
        }
        BranchProgress existing = t.branch(branch.bqual());
        if (existing != null) {
            if (existing.branch().sameAs(branch)) {
                out.reply(new Reply.Registered(gtrid, branch.bqual())); // a retried registration
            } else {
                reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.ALREADY_EXISTS,
                        "branch " + branch.bqual() + " of " + gtrid + " is registered with other attributes: " + existing.branch());
            }
            return;
        }
        if (!connectedAgents.contains(branch.agentId())) {
            reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.FAILED_PRECONDITION,
                    "agent " + Ids.quote(branch.agentId()) + " has no open stream to this coordinator; a branch can only"
                            + " join on an agent that is connected, so that it can be told to commit or roll back");
            return;
        }
        if (t.branchCount() >= config.maxBranchesPerTxn()) {
            reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.RESOURCE_EXHAUSTED,
                    "transaction " + gtrid + " has " + t.branchCount() + " branches, the configured maximum");
            return;
        }
        t.addBranch(branch);
        t.note(now(), Kind.BRANCH_REGISTERED, branch.bqual(), "on " + branch.resourceId() + " held by agent " + branch.agentId());
        out.reply(new Reply.Registered(gtrid, branch.bqual()));
    }

    void onCommitRequested(Event.CommitRequested e, Effects.Builder out) {
        String gtrid = e.gtrid();
        if (!Ids.isValidId(gtrid)) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.INVALID_ARGUMENT, "malformed gtrid " + Ids.quote(gtrid));
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null) {
            answerFinishedOrNotFound(gtrid, RequestKind.COMMIT, out);
            return;
        }
        switch (t.state()) {
            case ACTIVE -> {
                // One branch commits in one phase whatever the protocol: it decides alone.
                if (t.protocol() == Protocol.THREE_PHASE && t.branchCount() >= 2) {
                    threePhase.commit(t, now(), out);
                } else {
                    twoPhase.commit(t, now(), out);
                }
                txns.retireIfFinished(t);
            }
            // The outcome is decided (and, for COMMITTING, durable): say it again, for a client that retried.
            case COMMITTING -> out.reply(new Reply.Decided(gtrid, t.outcome()));
            // 3PC: not before the Aborted record is durable; the Decided reply comes then.
            case ROLLING_BACK -> {
                if (!t.abortAwaitingDisk()) {
                    out.reply(new Reply.Decided(gtrid, t.outcome()));
                }
            }
            // PREPARING, one phase, decision not durable yet: the Decided reply comes when decided.
            default -> { }
        }
    }

    void onRollbackRequested(Event.RollbackRequested e, Effects.Builder out) {
        String gtrid = e.gtrid();
        if (!Ids.isValidId(gtrid)) {
            reject(out, gtrid, RequestKind.ROLLBACK, ErrorCode.INVALID_ARGUMENT, "malformed gtrid " + Ids.quote(gtrid));
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null) {
            answerFinishedOrNotFound(gtrid, RequestKind.ROLLBACK, out);
            return;
        }
        switch (t.state()) {
            // 3PC: aborting before the decision is what a missing answer would do, except in a PRE_COMMIT
            // restored after a restart, where participants may already have committed on their own.
            case ACTIVE, PREPARING, CAN_COMMIT, LOGGING_PRE_COMMIT, PRE_COMMIT -> {
                if (t.state() == GlobalTxn.State.PRE_COMMIT && t.restored()) {
                    reject(out, gtrid, RequestKind.ROLLBACK, ErrorCode.FAILED_PRECONDITION, "transaction " + gtrid
                            + " was restored in PRE_COMMIT: a participant may have committed on its own, so only the"
                            + " branches' answers decide it");
                    return;
                }
                t.note(now(), Kind.ROLLBACK_REQUESTED, null, "by the client");
                twoPhase.abort(t, Outcome.ROLLED_BACK, "the client asked", now(), out);
                txns.retireIfFinished(t);
            }
            case ROLLING_BACK -> {
                if (!t.abortAwaitingDisk()) {
                    out.reply(new Reply.Decided(gtrid, t.outcome()));
                }
            }
            // A one-phase commit may be committing at the database right now, and a logged
            // decision may be durable already: neither can be taken back.
            default -> reject(out, gtrid, RequestKind.ROLLBACK, ErrorCode.FAILED_PRECONDITION,
                    "transaction " + gtrid + " is " + t.state().status + ": its commit is under way and cannot be rolled back");
        }
    }

    void answerFinishedOrNotFound(String gtrid, RequestKind kind, Effects.Builder out) {
        GlobalTxn done = txns.finished(gtrid);
        if (done != null) {
            out.reply(new Reply.Decided(gtrid, done.outcome()));
            out.reply(new Reply.Finished(gtrid, done.finishedOutcome()));
        } else {
            reject(out, gtrid, kind, ErrorCode.NOT_FOUND, "transaction " + gtrid
                    + " is not known: never begun, or lost in a coordinator restart before a commit decision, so presumed rolled back");
        }
    }
}
