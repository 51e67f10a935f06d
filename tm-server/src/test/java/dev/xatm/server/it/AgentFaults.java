package dev.xatm.server.it;

import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How one test agent misbehaves, switched on per instance and per branch by the tests. Every fault is
 * one of the transport or the process, never a protocol decision (those are the participant core's):
 * a command lost on the way in, a vote lost on the way out, COMMITs delayed in the pipe, a stream
 * whose loss goes unnoticed, a process that dies at a given point. Thread-safe.
 */
final class AgentFaults {
    /** Branch -> the stream session on which its phase-one commands are lost. */
    private final Map<TmXid, Integer> lostPhaseOne = new ConcurrentHashMap<>();
    private final Set<TmXid> lostVotes = ConcurrentHashMap.newKeySet();
    private final List<PhaseCommand> heldCommits = new ArrayList<>(); // guarded by itself
    private boolean holdCommits; // guarded by heldCommits
    private volatile TestAgent.CrashPoint crashAt;
    private volatile boolean deafToStreamLoss;

    /** PREPARE (3PC: PRE_COMMIT) of {@code xid} never reaches the agent on stream {@code session} (the first if none yet). */
    void losePhaseOneCommand(TmXid xid, int session) {
        lostPhaseOne.put(xid, Math.max(session, 1));
    }

    /** Whether {@code c}, arriving on stream {@code session}, is lost on the way in. */
    boolean lost(PhaseCommand c, TmXid xid, int session) {
        return (c.getAction() == PhaseAction.PREPARE || c.getAction() == PhaseAction.PRE_COMMIT)
                && Integer.valueOf(session).equals(lostPhaseOne.get(xid));
    }

    /** The YES answering PREPARE (3PC: PRE_COMMIT) of {@code xid} never leaves the agent. */
    void loseVotes(TmXid xid) {
        lostVotes.add(xid);
    }

    void stopLosingVotes() {
        lostVotes.clear();
    }

    /** Whether {@code m} is a vote lost on the way out. */
    boolean lost(AgentMessage m) {
        if (!m.hasVote() || m.getVote().getVote() != BranchVote.YES) {
            return false;
        }
        PhaseAction answering = m.getVote().getAnswering();
        boolean prepared = answering == PhaseAction.PHASE_ACTION_UNSPECIFIED || answering == PhaseAction.PREPARE
                || answering == PhaseAction.PRE_COMMIT;
        return prepared && lostVotes.contains(new TmXid(m.getVote().getGtrid(), m.getVote().getBqual()));
    }

    // ---- COMMITs held in the pipe ----

    void holdCommits() {
        synchronized (heldCommits) {
            holdCommits = true;
        }
    }

    /** Keeps {@code c} if COMMITs are held; true if kept. */
    boolean held(PhaseCommand c) {
        if (c.getAction() != PhaseAction.COMMIT) {
            return false;
        }
        synchronized (heldCommits) {
            if (holdCommits) {
                heldCommits.add(c);
            }
            return holdCommits;
        }
    }

    int heldCount() {
        synchronized (heldCommits) {
            return heldCommits.size();
        }
    }

    int discardHeld() {
        synchronized (heldCommits) {
            int n = heldCommits.size();
            heldCommits.clear();
            return n;
        }
    }

    /** Takes the held COMMIT of {@code xid} out of the pipe, or null. */
    PhaseCommand releaseOne(TmXid xid) {
        synchronized (heldCommits) {
            for (var it = heldCommits.iterator(); it.hasNext(); ) {
                PhaseCommand c = it.next();
                if (new TmXid(c.getGtrid(), c.getBqual()).equals(xid)) {
                    it.remove();
                    return c;
                }
            }
        }
        return null;
    }

    /** Stops holding; returns what was held, to deliver now. */
    List<PhaseCommand> releaseAll() {
        synchronized (heldCommits) {
            holdCommits = false;
            List<PhaseCommand> release = new ArrayList<>(heldCommits);
            heldCommits.clear();
            return release;
        }
    }

    // ---- the stream and the process ----

    void deafToStreamLoss() {
        deafToStreamLoss = true;
    }

    /** True: a broken stream is not reported to the participant core (it only reconnects). */
    boolean isDeafToStreamLoss() {
        return deafToStreamLoss;
    }

    void crashAt(TestAgent.CrashPoint point) {
        crashAt = point;
    }

    /** Whether the armed crash point is {@code point}; it fires once, so it is disarmed here. */
    boolean fires(TestAgent.CrashPoint point) {
        synchronized (this) {
            if (crashAt != point) {
                return false;
            }
            crashAt = null;
            return true;
        }
    }
}
