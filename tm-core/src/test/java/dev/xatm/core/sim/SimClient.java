package dev.xatm.core.sim;

import dev.xatm.core.Branch;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.Outcome;
import dev.xatm.core.Protocol;
import dev.xatm.core.Reply;

import java.util.ArrayList;
import java.util.List;

/**
 * The code running one global transaction: Begin, then for each branch XA START at the database
 * followed by RegisterBranch, then Commit or Rollback, or nothing at all (abandoned: it must time
 * out). Requests are RPCs: a lost answer (coordinator crash) is retried after a timeout, which
 * every request tolerates (rules 1-3, 10 make repeats safe). A one-round-trip plan sends
 * neither Begin nor RegisterBranch: its thread prepares every branch at its own participant, sends one
 * CommitPrepared with the votes, and on the answer commits or rolls back its branches itself and acks
 * them on the agent's stream; it dies with its participant. A three-phase one answers CAN_COMMIT at
 * its participant (arming the participant timers), sends CanCommitHeld, prepares on PreCommitted and
 * sends PreCommitHeld, then finishes its branches as the two-phase one does.
 *
 * <p>On any outcome but COMMITTED the client rolls back the branches it still holds ACTIVE: they
 * are its own connections, and an unprepared branch is doomed once the transaction is.
 */
final class SimClient {

    enum Ending { COMMIT, ROLLBACK, ABANDON }

    /**
     * @param agents  where each branch goes (one branch per database, never two)
     * @param wrote   per branch: did it write (else it can vote READ_ONLY)
     */
    record Plan(String gtrid, long startAt, long deadlineTicks, int[] agents, boolean[] wrote, Ending ending, Protocol protocol,
                boolean oneRoundTrip) {
        /** With the coordinator's default protocol. */
        Plan(String gtrid, long startAt, long deadlineTicks, int[] agents, boolean[] wrote, Ending ending) {
            this(gtrid, startAt, deadlineTicks, agents, wrote, ending, null);
        }

        /** Strict: Begin, RegisterBranch, and the coordinator sends every phase command. */
        Plan(String gtrid, long startAt, long deadlineTicks, int[] agents, boolean[] wrote, Ending ending, Protocol protocol) {
            this(gtrid, startAt, deadlineTicks, agents, wrote, ending, protocol, false);
        }
    }

    /**
     * LOCAL_COMMIT: one round trip: the application's thread prepared its branches at its own
     * participant (all branches of such a plan are there) and waits for the answer to CommitPrepared.
     */
    private enum Stage { WAITING, BEGIN, REGISTER, COMMIT, ROLLBACK, ABANDONED, LOCAL_CAN_COMMIT, LOCAL_COMMIT, DONE }

    private static final long REPLY_TIMEOUT_TICKS = 30;

    final int index;
    final Plan plan;
    private Stage stage = Stage.WAITING;
    private int nextBranch;
    private final List<BranchId> started = new ArrayList<>();
    /** 3PC, the application's own branches: those that answered YES to its CAN_COMMIT. */
    private final List<BranchId> willing = new ArrayList<>();
    private Event pending;
    private long sentAt;
    private int attempts;
    private long diesAt;
    private String result;
    /** Set when the client learnt its outcome only as "unknown gtrid, presumed rolled back". */
    private boolean presumedAborted;

    SimClient(int index, Plan plan) {
        this.index = index;
        this.plan = plan;
    }

    String gtrid() {
        return plan.gtrid();
    }

    boolean finished() {
        return stage == Stage.DONE;
    }

    String result() {
        return result;
    }

    boolean presumedAborted() {
        return presumedAborted;
    }

    int branchCount() {
        return started.size();
    }

    /** Called once per tick. */
    void act(SimWorld w) {
        switch (stage) {
            case WAITING -> {
                if (w.now() >= plan.startAt() && plan.oneRoundTrip()) {
                    startLocally(w);
                } else if (w.now() >= plan.startAt()) {
                    stage = Stage.BEGIN;
                    request(w, new Event.Begin(gtrid(), "sim", w.now() + plan.deadlineTicks(), plan.protocol()));
                }
            }
            case ABANDONED -> {
                if (w.now() >= diesAt) {
                    // The process dies: its database sessions end, so its active branches roll back.
                    for (BranchId x : started) {
                        w.participant(agentOf(x)).rollbackIfActive(x);
                    }
                    finish(w, "abandoned");
                }
            }
            case DONE -> { }
            case LOCAL_CAN_COMMIT, LOCAL_COMMIT -> {
                if (w.participant(plan.agents()[0]).crashed()) {
                    // The application died while it waited: so did this thread. Its request may still arrive.
                    finish(w, "died with its application before the answer");
                } else if (pending != null && w.now() - sentAt >= REPLY_TIMEOUT_TICKS) {
                    attempts++;
                    send(w);
                }
            }
            default -> {
                if (pending != null && w.now() - sentAt >= REPLY_TIMEOUT_TICKS) {
                    attempts++;
                    send(w); // the answer is overdue: the coordinator may have crashed; ask again
                }
            }
        }
    }

    void onReply(SimWorld w, Reply r) {
        switch (stage) {
            case BEGIN -> {
                if (r instanceof Reply.Begun
                        || (attempts > 0 && r instanceof Reply.Rejected rej && rej.code() == ErrorCode.ALREADY_EXISTS)) {
                    stage = Stage.REGISTER; // a retried Begin finds its own transaction
                    registerNext(w);
                } else if (r instanceof Reply.Rejected rej) {
                    finish(w, "begin rejected: " + rej.code());
                }
            }
            case REGISTER -> {
                if (r instanceof Reply.Registered reg && reg.bqual().equals(bqual(nextBranch))) {
                    nextBranch++;
                    registerNext(w);
                } else if (r instanceof Reply.Rejected rej && rej.request() == dev.xatm.core.RequestKind.REGISTER_BRANCH) {
                    presumedAborted = rej.code() == ErrorCode.NOT_FOUND;
                    giveUp(w, "register rejected: " + rej.code());
                } else if (r instanceof Reply.Decided d && d.outcome() != Outcome.COMMITTED) {
                    heard(w, d.gtrid(), d.outcome());
                    giveUp(w, "decided while registering: " + d.outcome()); // e.g. timed out
                }
            }
            case COMMIT, ROLLBACK -> {
                if (r instanceof Reply.Decided d) {
                    heard(w, d.gtrid(), d.outcome());
                    outcome(w, d.outcome());
                } else if (r instanceof Reply.Finished f) {
                    heard(w, f.gtrid(), f.outcome());
                    outcome(w, f.outcome());
                } else if (r instanceof Reply.Rejected rej && isAnswerTo(rej)) {
                    if (rej.code() != ErrorCode.NOT_FOUND) {
                        // We never ask to roll back a commit under way, nor anything malformed.
                        Invariants.fail("client " + gtrid() + " got an unexpected rejection " + rej);
                    }
                    presumedAborted = true;
                    giveUp(w, "NOT_FOUND (presumed rolled back)");
                }
            }
            case LOCAL_COMMIT -> {
                if (r instanceof Reply.Decided d) {
                    heard(w, d.gtrid(), d.outcome());
                    finishLocally(w, d.outcome() == Outcome.COMMITTED ? dev.xatm.core.Action.COMMIT : dev.xatm.core.Action.ROLLBACK,
                            d.outcome().name());
                } else if (r instanceof Reply.Rejected rej && rej.request() == dev.xatm.core.RequestKind.COMMIT) {
                    if (plan.protocol() == Protocol.THREE_PHASE && rej.code() == ErrorCode.NOT_FOUND) {
                        presumedAborted = true; // finished and forgotten: rolled back
                    } else if (rej.code() != ErrorCode.RESOURCE_EXHAUSTED) {
                        Invariants.fail("client " + gtrid() + " got an unexpected rejection of its commit with votes: " + rej);
                    }
                    // Refused, nothing decided: the branches are ours to roll back.
                    finishLocally(w, dev.xatm.core.Action.ROLLBACK, "commit with votes refused: " + rej.code());
                }
            }
            case LOCAL_CAN_COMMIT -> {
                if (r instanceof Reply.PreCommitted pc) {
                    preCommitLocally(w, pc.participantPreCommitMillis());
                } else if (r instanceof Reply.Decided d) {
                    heard(w, d.gtrid(), d.outcome());
                    // a NO, all read-only, or (a retried request to a restarted coordinator) the decision itself
                    finishLocally(w, d.outcome() == Outcome.COMMITTED ? dev.xatm.core.Action.COMMIT : dev.xatm.core.Action.ROLLBACK,
                            d.outcome().name());
                } else if (r instanceof Reply.Rejected rej && rej.request() == dev.xatm.core.RequestKind.COMMIT) {
                    if (rej.code() != ErrorCode.RESOURCE_EXHAUSTED) {
                        Invariants.fail("client " + gtrid() + " got an unexpected rejection of its CAN_COMMIT answers: " + rej);
                    }
                    finishLocally(w, dev.xatm.core.Action.ROLLBACK, "CAN_COMMIT answers refused: " + rej.code());
                }
            }
            case ABANDONED -> { } // an abandoned client no longer listens
            default -> { }
        }
    }

    // ---- one round trip: every branch at the participant plan.agents()[0] ----

    private void startLocally(SimWorld w) {
        SimAgent p = w.participant(plan.agents()[0]);
        for (int i = 0; i < plan.agents().length; i++) {
            BranchId x = new BranchId(gtrid(), bqual(i));
            if (!p.start(x, plan.wrote()[i])) {
                giveUp(w, "database down"); // nothing was sent: the coordinator never hears of it
                return;
            }
            started.add(x);
        }
        switch (plan.ending()) {
            case ROLLBACK -> giveUp(w, "rolled back locally");
            case ABANDON -> {
                stage = Stage.ABANDONED;
                diesAt = w.now() + plan.deadlineTicks() + w.random().nextInt(0, 200);
            }
            case COMMIT -> {
                if (plan.protocol() == Protocol.THREE_PHASE) {
                    canCommitLocally(w, p);
                } else {
                    prepareLocally(w, p);
                }
            }
        }
    }

    /** 3PC, first request: CAN_COMMIT answered here (each YES arms its participant timer), the answers sent. */
    private void canCommitLocally(SimWorld w, SimAgent p) {
        long timer = w.coordinatorConfig().threePhase().participantCanCommitMillis();
        List<Event.Voted> answers = new ArrayList<>();
        for (BranchId x : started) {
            Event.VoteReceived v = (Event.VoteReceived) p.runForCaller(x, dev.xatm.core.Action.CAN_COMMIT, w.now(), timer);
            if (v.vote() == dev.xatm.core.Vote.NO) {
                finishLocally(w, dev.xatm.core.Action.ROLLBACK, "CAN_COMMIT NO: rolled back locally");
                return;
            }
            if (v.vote() == dev.xatm.core.Vote.YES) {
                willing.add(x);
            }
            answers.add(new Event.Voted(new Branch(x.bqual(), p.resourceId, p.agentId), v.vote()));
        }
        if (willing.isEmpty()) {
            finish(w, "COMMITTED"); // every branch read-only: nothing to decide
            return;
        }
        stage = Stage.LOCAL_CAN_COMMIT;
        request(w, new Event.CanCommitHeld(gtrid(), "sim", w.now() + plan.deadlineTicks(), p.agentId, answers));
    }

    /** 3PC, second request: the PRE_COMMIT record is durable; XA PREPARE here (each YES arms its timer), the answers sent. */
    private void preCommitLocally(SimWorld w, long participantPreCommitMillis) {
        SimAgent p = w.participant(plan.agents()[0]);
        if (p.crashed()) {
            finish(w, "died with its application before PRE_COMMIT");
            return;
        }
        List<Event.Voted> answers = new ArrayList<>();
        for (BranchId x : willing) {
            Event e = p.runForCaller(x, dev.xatm.core.Action.PRE_COMMIT, w.now(), participantPreCommitMillis);
            // An autonomous report instead of a vote: its CAN_COMMIT timer rolled it back meanwhile, so it is a NO.
            dev.xatm.core.Vote vote = e instanceof Event.VoteReceived v ? v.vote() : dev.xatm.core.Vote.NO;
            answers.add(new Event.Voted(new Branch(x.bqual(), p.resourceId, p.agentId), vote));
        }
        stage = Stage.LOCAL_COMMIT;
        request(w, new Event.PreCommitHeld(gtrid(), p.agentId, answers));
    }

    private void prepareLocally(SimWorld w, SimAgent p) {
        List<Event.Voted> voted = new ArrayList<>();
        boolean anyYes = false;
        for (BranchId x : started) {
            Event.VoteReceived v = (Event.VoteReceived) p.runForCaller(x, dev.xatm.core.Action.PREPARE, w.now());
            if (v.vote() == dev.xatm.core.Vote.NO) {
                finishLocally(w, dev.xatm.core.Action.ROLLBACK, "prepare failed: rolled back locally");
                return;
            }
            anyYes |= v.vote() == dev.xatm.core.Vote.YES;
            voted.add(new Event.Voted(new Branch(x.bqual(), p.resourceId, p.agentId), v.vote()));
        }
        if (!anyYes) {
            started.forEach(p::callerDone);
            finish(w, "COMMITTED"); // every branch read-only: nothing to decide
            return;
        }
        stage = Stage.LOCAL_COMMIT;
        request(w, new Event.CommitPrepared(gtrid(), "sim", w.now() + plan.deadlineTicks(), p.agentId, voted));
    }

    /** Phase 2 of its own branches on the thread that prepared them; the acks go out on the agent's stream. */
    private void finishLocally(SimWorld w, dev.xatm.core.Action action, String why) {
        SimAgent p = w.participant(plan.agents()[0]);
        if (p.crashed()) {
            finish(w, "died with its application before phase 2");
            return;
        }
        for (BranchId x : started) {
            Event ack = p.runForCaller(x, action, w.now());
            p.callerDone(x);
            w.sendFromAgent(plan.agents()[0], ack);
        }
        finish(w, why);
    }

    /** The client received an outcome and acts on it: from now on it counts as told (see {@link Invariants#told}). */
    private void heard(SimWorld w, String gtrid, Outcome o) {
        w.participant(plan.agents()[0]).database().invariants().told(gtrid, o);
    }

    /** A rejection of the commit or rollback we asked for, not a late answer to an earlier request. */
    private boolean isAnswerTo(Reply.Rejected rej) {
        return rej.request() == (stage == Stage.COMMIT ? dev.xatm.core.RequestKind.COMMIT : dev.xatm.core.RequestKind.ROLLBACK);
    }

    private void registerNext(SimWorld w) {
        if (nextBranch == plan.agents().length) {
            end(w);
            return;
        }
        BranchId x = new BranchId(gtrid(), bqual(nextBranch));
        int agent = plan.agents()[nextBranch];
        if (!w.participant(agent).start(x, plan.wrote()[nextBranch], true, w.now())) {
            // The database is down: the business code fails and rolls the transaction back.
            stage = Stage.ROLLBACK;
            request(w, new Event.RollbackRequested(gtrid()));
            return;
        }
        started.add(x);
        request(w, new Event.RegisterBranch(gtrid(), new Branch(x.bqual(), w.participant(agent).resourceId, w.participant(agent).agentId)));
    }

    private void end(SimWorld w) {
        switch (plan.ending()) {
            case COMMIT -> {
                stage = Stage.COMMIT;
                request(w, new Event.CommitRequested(gtrid()));
            }
            case ROLLBACK -> {
                stage = Stage.ROLLBACK;
                request(w, new Event.RollbackRequested(gtrid()));
            }
            case ABANDON -> {
                stage = Stage.ABANDONED;
                pending = null;
                // Dies some time around its deadline; until then its branches stay open, and the
                // coordinator's deadline must roll the transaction back on its own.
                diesAt = w.now() + plan.deadlineTicks() + w.random().nextInt(0, 200);
            }
        }
    }

    private void outcome(SimWorld w, Outcome o) {
        if (o == Outcome.COMMITTED) {
            finish(w, o.name());
        } else {
            giveUp(w, o.name());
        }
    }

    /** Any outcome but COMMITTED: roll back what this client still holds open. */
    private void giveUp(SimWorld w, String why) {
        for (BranchId x : started) {
            w.participant(agentOf(x)).rollbackIfActive(x);
        }
        finish(w, why);
    }

    private void finish(SimWorld w, String why) {
        stage = Stage.DONE;
        pending = null;
        result = why;
        w.trace(gtrid() + " client done: " + why);
    }

    private void request(SimWorld w, Event e) {
        pending = e;
        attempts = 0;
        send(w);
    }

    private void send(SimWorld w) {
        sentAt = w.now();
        w.sendFromClient(this, pending);
    }

    private String bqual(int i) {
        return "b" + i;
    }

    private int agentOf(BranchId x) {
        return plan.agents()[Integer.parseInt(x.bqual().substring(1))];
    }

    @Override
    public String toString() {
        return "client " + gtrid() + (plan.protocol() == null ? "" : " " + plan.protocol().label) + " " + stage + (result == null ? "" : " (" + result + ")")
                + " branches " + started + (pending == null ? "" : " awaiting " + pending);
    }
}
