package dev.xatm.core.participant;

import java.util.ArrayList;
import java.util.List;

/**
 * What one {@link Participant#step} asks the driver to do, in this order:
 * <ol>
 *   <li>journal {@link #journal()} durably (3PC's own decisions), before anything else;</li>
 *   <li>arm and cancel {@link #timers()};</li>
 *   <li>run {@link #xa()}: the calls of one branch in order, stopping at the first result that is not
 *       OK (except after {@link XaOp#END_FAIL}), then feed one {@link ParticipantEvent.XaCompleted} per
 *       branch for the last call that ran, and a {@link ParticipantEvent.Recovered} per XA RECOVER;</li>
 *   <li>send {@link #messages()} (a vote or an acknowledgement is emitted only after the XA result it
 *       reports came back, so sending at once is safe);</li>
 *   <li>log {@link #problems()}: commands the protocol never sends (a COMMIT to an unprepared branch),
 *       left unanswered.</li>
 * </ol>
 * Immutable once built.
 */
public record ParticipantEffects(List<XaCall> xa, List<Outgoing> messages, List<TimerCommand> timers,
                                 List<OwnDecision> journal, List<String> problems) {
    private static final ParticipantEffects NONE = new ParticipantEffects(List.of(), List.of(), List.of(), List.of(), List.of());

    public ParticipantEffects {
        xa = List.copyOf(xa);
        messages = List.copyOf(messages);
        timers = List.copyOf(timers);
        journal = List.copyOf(journal);
        problems = List.copyOf(problems);
    }

    public static ParticipantEffects none() {
        return NONE;
    }

    public boolean isEmpty() {
        return xa.isEmpty() && messages.isEmpty() && timers.isEmpty() && journal.isEmpty() && problems.isEmpty();
    }

    /** Collects effects during one step. Not thread-safe; one per step. */
    public static final class Builder {
        private final List<XaCall> xa = new ArrayList<>();
        private final List<Outgoing> messages = new ArrayList<>();
        private final List<TimerCommand> timers = new ArrayList<>();
        private final List<OwnDecision> journal = new ArrayList<>();
        private final List<String> problems = new ArrayList<>();

        public Builder xa(XaCall c) {
            xa.add(c);
            return this;
        }

        public Builder send(Outgoing m) {
            messages.add(m);
            return this;
        }

        public Builder timer(TimerCommand t) {
            timers.add(t);
            return this;
        }

        public Builder journal(OwnDecision d) {
            journal.add(d);
            return this;
        }

        public Builder problem(String p) {
            problems.add(p);
            return this;
        }

        public ParticipantEffects build() {
            if (xa.isEmpty() && messages.isEmpty() && timers.isEmpty() && journal.isEmpty() && problems.isEmpty()) {
                return NONE;
            }
            return new ParticipantEffects(xa, messages, timers, journal, problems);
        }
    }
}
