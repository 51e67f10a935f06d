package dev.xatm.core.participant;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.Vote;
import dev.xatm.core.participant.BranchState.Asker;

/**
 * The effects of one step, in the participant's words: answers to whoever asked, XA calls, timers.
 * One per step; not thread-safe.
 */
final class Out {
    final ParticipantEffects.Builder fx = new ParticipantEffects.Builder();
    private final String agentId;
    private final Participant.Tokens tokens;
    private final java.util.SortedSet<String> connected;
    /** Every branch this step spoke of: the only ones whose state may have changed, checked for retirement after it. */
    final java.util.Set<Tracked> touched = new java.util.LinkedHashSet<>();

    Out(String agentId, Participant.Tokens tokens, java.util.SortedSet<String> connected) {
        this.agentId = agentId;
        this.tokens = tokens;
        this.connected = connected;
    }

    /**
     * Where to send an inquiry or a report about {@code t}: the server that serves it while its stream is
     * open, else any open one (every server answers from the shared store), else nobody for now (the
     * next Connected sends it).
     */
    String target(Tracked t) {
        if (t.server != null && connected.contains(t.server)) {
            return t.server;
        }
        return connected.isEmpty() ? null : connected.first();
    }

    void vote(Tracked t, Asker to, Action answering, Vote vote) {
        touched.add(t);
        send(to, new Event.VoteReceived(t.key.gtrid(), t.key.bqual(), vote, answering, agentId));
    }

    void ack(Tracked t, Asker to, Action action, AckResult result) {
        touched.add(t);
        send(to, new Event.AckReceived(t.key.gtrid(), t.key.bqual(), action, result, false, agentId));
    }

    /** 3PC: what the participant decided on its own, as an answer or a report. */
    void ownDecision(Tracked t, Asker to, Action decision) {
        touched.add(t);
        send(to, new Event.AckReceived(t.key.gtrid(), t.key.bqual(), decision, AckResult.DONE, true, agentId));
    }

    void inquiry(Tracked t, String server) {
        touched.add(t);
        fx.send(new Outgoing(server, new Event.Inquiry(t.key.gtrid(), t.key.bqual(),
                t.resourceId == null ? "unknown" : t.resourceId, agentId)));
    }

    private void send(Asker to, Event message) {
        if (to.caller()) {
            fx.send(new Outgoing(null, message));
        } else if (to.server() != null) {
            fx.send(new Outgoing(to.server(), message));
        }
    }

    void xa(Tracked t, XaOp... ops) {
        touched.add(t);
        for (XaOp op : ops) {
            fx.xa(new XaCall(t.key, t.resourceId, op));
        }
    }

    /** Arms a timer of {@code delayMillis} and returns its token; 0 (none) when the command carried no timeout. */
    long arm(Tracked t, long delayMillis) {
        if (delayMillis <= 0) {
            return 0;
        }
        long token = tokens.next();
        fx.timer(new TimerCommand.Arm(t.key, token, delayMillis));
        return token;
    }

    void cancel(Tracked t, long token) {
        if (token != 0) {
            fx.timer(new TimerCommand.Cancel(t.key, token));
        }
    }

    void problem(Tracked t, String what) {
        touched.add(t);
        fx.problem(agentId + ": " + t.key + " (" + t.state + "): " + what);
    }
}
