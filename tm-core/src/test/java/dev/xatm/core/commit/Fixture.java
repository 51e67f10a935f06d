package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Branch;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.Outbound;
import dev.xatm.core.Protocol;
import dev.xatm.core.ThreePhaseTimeouts;
import dev.xatm.core.Vote;

/**
 * Drives one {@link Coordinator} through the events of a test, one line per event, so each test
 * reads like the protocol trace it checks. Agents are named "a1", "a2", ...; branch "b1" lives on
 * agent "a1" and database "db1" unless a test says otherwise.
 */
final class Fixture {
    /** Small numbers so the arithmetic of deadlines and backoff is easy to follow in tests. */
    static final CoordinatorConfig CONFIG = new CoordinatorConfig(1_000, 100, 400, 3, 3, 2);
    static final long DEADLINE = 10_000;

    /**
     * {@link #CONFIG} with three-phase commit as the default protocol and timeouts that are easy to
     * tell apart: the coordinator waits 500 ms for CAN_COMMIT answers and 700 ms for PRE_COMMIT
     * answers; participants wait 2000 ms after CAN_COMMIT and 3000 ms after PRE_COMMIT.
     */
    static final CoordinatorConfig THREE_PHASE = CONFIG.withThreePhase(
            new ThreePhaseTimeouts(500, 700, 2_000, 3_000), Protocol.THREE_PHASE);

    final Coordinator c;
    long now;

    /** A fresh coordinator with agents a1..a5 connected, as branches may only join on a connected agent. */
    Fixture() {
        this(CONFIG);
    }

    /** The same with another configuration (e.g. {@link #THREE_PHASE}). */
    Fixture(CoordinatorConfig config) {
        this(new Coordinator(config));
        for (int agent = 1; agent <= 5; agent++) {
            connected(agent);
        }
    }

    Fixture(Coordinator c) {
        this.c = c;
        step(new Event.Tick(0));
    }

    Effects step(Event e) {
        if (e instanceof Event.Tick t) {
            now = t.nowMillis();
        }
        return c.step(e);
    }

    Effects tick(long nowMillis) {
        return step(new Event.Tick(nowMillis));
    }

    Effects begin(String gtrid) {
        return begin(gtrid, DEADLINE);
    }

    Effects begin(String gtrid, long deadlineMillis) {
        return step(new Event.Begin(gtrid, "test", deadlineMillis));
    }

    /** Branch "bN" on agent "aN" and database "dbN". */
    static Branch branch(int n) {
        return new Branch("b" + n, "db" + n, "a" + n);
    }

    Effects register(String gtrid, int n) {
        return step(new Event.RegisterBranch(gtrid, branch(n)));
    }

    Effects commit(String gtrid) {
        return step(new Event.CommitRequested(gtrid));
    }

    Effects rollback(String gtrid) {
        return step(new Event.RollbackRequested(gtrid));
    }

    Effects vote(String gtrid, int n, Vote vote) {
        return step(new Event.VoteReceived(gtrid, "b" + n, vote, "a" + n));
    }

    /** A 3PC answer: {@code answering} is CAN_COMMIT or PRE_COMMIT. */
    Effects vote(String gtrid, int n, Vote vote, Action answering) {
        return step(new Event.VoteReceived(gtrid, "b" + n, vote, answering, "a" + n));
    }

    /** A 3PC participant reports that its timer ran out and it did {@code action} on its own. */
    Effects decidedOnItsOwn(String gtrid, int n, Action action) {
        return step(new Event.AckReceived(gtrid, "b" + n, action, AckResult.DONE, true, "a" + n));
    }

    Effects ack(String gtrid, int n, Action action) {
        return step(new Event.AckReceived(gtrid, "b" + n, action, AckResult.DONE, "a" + n));
    }

    Effects ack(String gtrid, int n, Action action, AckResult result) {
        return step(new Event.AckReceived(gtrid, "b" + n, action, result, "a" + n));
    }

    /** A vote for branch "bN" carried by the stream of {@code agentId}, which need not hold it. */
    Effects voteFrom(String agentId, String gtrid, int n, Vote vote) {
        return step(new Event.VoteReceived(gtrid, "b" + n, vote, agentId));
    }

    /** An acknowledgement (DONE) for branch "bN" carried by the stream of {@code agentId}, which need not hold it. */
    Effects ackFrom(String agentId, String gtrid, int n, Action action) {
        return step(new Event.AckReceived(gtrid, "b" + n, action, AckResult.DONE, agentId));
    }

    Effects forceCommit(String gtrid) {
        return step(new Event.ForceCommit(gtrid, "alice"));
    }

    Effects forceRollback(String gtrid) {
        return step(new Event.ForceRollback(gtrid, "alice"));
    }

    Effects forget(String gtrid) {
        return step(new Event.Forget(gtrid, "alice"));
    }

    Effects durable(String gtrid) {
        return step(new Event.DecisionDurable(gtrid));
    }

    Effects connected(int agent) {
        return step(new Event.AgentConnected("a" + agent));
    }

    Effects disconnected(int agent) {
        return step(new Event.AgentDisconnected("a" + agent));
    }

    Effects inquiry(String gtrid, int n, String agentId) {
        return step(new Event.Inquiry(gtrid, "b" + n, "db" + n, agentId));
    }

    /** begin + register branches 1..n + commit: PREPARE (or one-phase) is out. */
    Effects commitRequested(String gtrid, int branches) {
        begin(gtrid);
        for (int n = 1; n <= branches; n++) {
            register(gtrid, n);
        }
        return commit(gtrid);
    }

    /** Two branches voted YES: the decision record is appended, not yet durable. */
    Effects allVotedYes(String gtrid) {
        commitRequested(gtrid, 2);
        vote(gtrid, 1, Vote.YES);
        return vote(gtrid, 2, Vote.YES);
    }

    /** Two branches voted YES and the decision is durable: COMMIT is out to both. */
    Effects committing(String gtrid) {
        allVotedYes(gtrid);
        return durable(gtrid);
    }

    // ---- three-phase commit, two branches; the transaction's protocol is the configuration's default ----

    /** begin + branches 1, 2 + commit: CAN_COMMIT is out to both. */
    Effects canCommitAsked(String gtrid) {
        return commitRequested(gtrid, 2);
    }

    /** Both answered YES to CAN_COMMIT: the PRE_COMMIT record is appended, not yet durable. */
    Effects preCommitAppended(String gtrid) {
        canCommitAsked(gtrid);
        vote(gtrid, 1, Vote.YES, Action.CAN_COMMIT);
        return vote(gtrid, 2, Vote.YES, Action.CAN_COMMIT);
    }

    /** The PRE_COMMIT record is durable: PRE_COMMIT (XA PREPARE) is out to both. */
    Effects preCommitSent(String gtrid) {
        preCommitAppended(gtrid);
        return durable(gtrid);
    }

    /** Both answered YES to PRE_COMMIT: the COMMIT decision is appended, not yet durable. */
    Effects preCommitAcked(String gtrid) {
        preCommitSent(gtrid);
        vote(gtrid, 1, Vote.YES, Action.PRE_COMMIT);
        return vote(gtrid, 2, Vote.YES, Action.PRE_COMMIT);
    }

    /** The command for branch "bN" on agent "aN". */
    static Outbound cmd(String gtrid, int n, Action action) {
        return new Outbound("a" + n, gtrid, "b" + n, action);
    }

    /** The same, carrying the participant's own timeout (3PC's CAN_COMMIT and PRE_COMMIT). */
    static Outbound cmd(String gtrid, int n, Action action, long participantTimeoutMillis) {
        return new Outbound("a" + n, gtrid, "b" + n, action, participantTimeoutMillis);
    }
}
