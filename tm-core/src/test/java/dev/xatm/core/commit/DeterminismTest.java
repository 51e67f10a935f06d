package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Branch;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.Vote;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The same events give the same effects: nothing in the core depends on hash order, time or chance. */
class DeterminismTest {

    private static List<Event> randomEvents(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Event> events = new ArrayList<>();
        long now = 0;
        for (int i = 0; i < 3_000; i++) {
            String g = "g" + r.nextInt(30);
            String bq = "b" + r.nextInt(4);
            String agent = "a" + r.nextInt(4);
            events.add(switch (r.nextInt(11)) {
                case 0 -> new Event.Tick(now += r.nextInt(200));
                case 1 -> new Event.Begin(g, "n", now + r.nextInt(5_000));
                case 2 -> new Event.RegisterBranch(g, new Branch(bq, "db-" + agent, agent));
                case 3 -> new Event.CommitRequested(g);
                case 4 -> new Event.RollbackRequested(g);
                case 5 -> new Event.VoteReceived(g, bq, Vote.values()[r.nextInt(3)], agent);
                case 6 -> new Event.AckReceived(g, bq, Action.values()[r.nextInt(4)], AckResult.values()[r.nextInt(2)], agent);
                case 7 -> new Event.DecisionDurable(g);
                case 8 -> new Event.AgentConnected(agent);
                case 9 -> new Event.AgentDisconnected(agent);
                default -> new Event.Inquiry(g, bq, "db-" + agent, agent);
            });
        }
        return events;
    }

    private static List<String> run(List<Event> events, boolean trace) {
        Coordinator c = new Coordinator(new CoordinatorConfig(1_000, 50, 400, 4, 20, 10));
        List<String> lines = new ArrayList<>();
        for (Event e : events) {
            Effects fx = c.step(e);
            if (trace) {
                lines.add(e + " -> " + fx);
            }
        }
        return lines;
    }

    @Test
    void sameEventsGiveTheSameEffects() {
        for (long seed = 0; seed < 10; seed++) {
            List<Event> events = randomEvents(seed);
            assertThat(run(events, true)).isEqualTo(run(events, true));
        }
    }

    @Test
    void arbitraryEventSequencesNeverBreakTheStateMachine() {
        // Random, mostly nonsensical input: every event is either handled or refused, never an exception.
        for (long seed = 100; seed < 200; seed++) {
            run(randomEvents(seed), false);
        }
    }
}
