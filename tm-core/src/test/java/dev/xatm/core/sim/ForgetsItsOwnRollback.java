package dev.xatm.core.sim;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.Vote;
import dev.xatm.core.participant.BranchKey;
import dev.xatm.core.participant.Outgoing;
import dev.xatm.core.participant.ParticipantEffects;
import dev.xatm.core.participant.ParticipantEvent;

import java.util.HashSet;
import java.util.Set;

/**
 * A planted bug, for {@code PlantedParticipantBugTest}: a participant that, after rolling a 3PC branch
 * back on its own (no PRE_COMMIT after its YES to CAN_COMMIT), forgets it did. It never reports that
 * rollback, answers the late PRE_COMMIT with YES and acknowledges the COMMIT as done: it commits, as
 * far as the coordinator can tell, a branch its database rolled back. Wraps the real core's step, so the
 * bug is in one place and the real participant stays untouched. Not thread-safe, like the core.
 */
final class ForgetsItsOwnRollback implements ParticipantStep {
    private final ParticipantStep inner;
    private final Set<BranchKey> rolledBackAlone = new HashSet<>();

    ForgetsItsOwnRollback(ParticipantStep inner) {
        this.inner = inner;
    }

    @Override
    public ParticipantEffects step(ParticipantEvent e) {
        ParticipantEffects fx = inner.step(e);
        ParticipantEffects.Builder b = new ParticipantEffects.Builder();
        fx.xa().forEach(b::xa);
        fx.timers().forEach(b::timer);
        fx.journal().forEach(b::journal);
        fx.problems().forEach(b::problem);
        for (Outgoing m : fx.messages()) {
            if (m.message() instanceof Event.AckReceived a && a.autonomous() && a.action() == Action.ROLLBACK) {
                BranchKey key = new BranchKey(a.gtrid(), a.bqual());
                rolledBackAlone.add(key);
                Event lie = lieAbout(key, e, a.agentId());
                if (lie != null) {
                    b.send(new Outgoing(m.server(), lie));
                }
                // otherwise (the report after the timer, or on a reconnect) it says nothing at all
            } else {
                b.send(m);
            }
        }
        return b.build();
    }

    /** The answer it gives a command about a branch it rolled back on its own: as if it were prepared. */
    private static Event lieAbout(BranchKey key, ParticipantEvent e, String agentId) {
        Action asked = e instanceof ParticipantEvent.Command c && c.key().equals(key) ? c.action()
                : e instanceof ParticipantEvent.CallerCommand c && c.key().equals(key) ? c.action() : null;
        if (asked == null) {
            return null;
        }
        return switch (asked) {
            case PREPARE, CAN_COMMIT, PRE_COMMIT -> new Event.VoteReceived(key.gtrid(), key.bqual(), Vote.YES, asked, agentId);
            case COMMIT, ROLLBACK -> new Event.AckReceived(key.gtrid(), key.bqual(), asked, AckResult.DONE, agentId);
            default -> null;
        };
    }
}
