package dev.xatm.core.participant;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.Vote;

import java.util.List;

/**
 * One participant ("agent-1", resource "db-1", server "s1") and short ways to feed it events and read
 * what it answered, for the participant's unit tests. Not thread-safe.
 */
final class Fixture {
    static final String AGENT = "agent-1";
    static final String DB = "db-1";
    static final String S1 = "s1";
    static final String S2 = "s2";
    static final long REINQUIRE = 100;

    Participant p = new Participant(ParticipantConfig.of(AGENT, List.of(DB), REINQUIRE));

    static BranchKey key(String gtrid) {
        return new BranchKey(gtrid, "b1");
    }

    ParticipantEffects step(ParticipantEvent e) {
        return p.step(e);
    }

    /** XA START by the business code, which then lets go (having written or not). */
    void enlisted(BranchKey k, boolean wrote) {
        step(new ParticipantEvent.Enlisted(k, DB, S1));
        step(new ParticipantEvent.Released(k, wrote, false));
    }

    ParticipantEffects command(BranchKey k, Action a) {
        return command(k, a, 0);
    }

    ParticipantEffects command(BranchKey k, Action a, long timeout) {
        return step(new ParticipantEvent.Command(S1, k, a, timeout, 0));
    }

    ParticipantEffects xa(BranchKey k, XaOp op, XaResult r) {
        return step(new ParticipantEvent.XaCompleted(k, op, r));
    }

    /** The branch's XA calls ran and every one succeeded. */
    ParticipantEffects xaOk(BranchKey k, ParticipantEffects asked) {
        List<XaCall> calls = asked.xa().stream().filter(c -> k.equals(c.key())).toList();
        return xa(k, calls.get(calls.size() - 1).op(), XaResult.OK);
    }

    BranchState state(BranchKey k) {
        return p.state(k).orElse(null);
    }

    static List<XaOp> ops(ParticipantEffects fx) {
        return fx.xa().stream().map(XaCall::op).toList();
    }

    static Event vote(BranchKey k, Vote v, Action answering) {
        return new Event.VoteReceived(k.gtrid(), k.bqual(), v, answering, AGENT);
    }

    static Event ack(BranchKey k, Action a, AckResult r) {
        return new Event.AckReceived(k.gtrid(), k.bqual(), a, r, false, AGENT);
    }

    static Event own(BranchKey k, Action decision) {
        return new Event.AckReceived(k.gtrid(), k.bqual(), decision, AckResult.DONE, true, AGENT);
    }

    static Outgoing to(String server, Event e) {
        return new Outgoing(server, e);
    }

    static Event inquiry(BranchKey k, String resource) {
        return new Event.Inquiry(k.gtrid(), k.bqual(), resource, AGENT);
    }

    static long armedToken(ParticipantEffects fx) {
        return fx.timers().stream().filter(t -> t instanceof TimerCommand.Arm).mapToLong(TimerCommand::token).findFirst()
                .orElseThrow();
    }
}
