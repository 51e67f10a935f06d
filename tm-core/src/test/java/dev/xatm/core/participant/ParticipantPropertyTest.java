package dev.xatm.core.participant;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.Vote;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The participant core against generated event sequences: any order of business-code calls, phase
 * commands from two servers and the caller (protocol-violating ones included), timer firings (stale
 * ones included), stream changes, XA RECOVER listings, and XA results of every kind for the calls it
 * asked for. After every step, for every branch:
 * <ul>
 *   <li>never an XA COMMIT, one-phase commit or PREPARE after its XA ROLLBACK succeeded;</li>
 *   <li>never an XA ROLLBACK after its XA COMMIT (or one-phase commit of a branch that wrote) succeeded;</li>
 *   <li>one terminal outcome: it never tells anybody both "committed" (a DONE for COMMIT or one-phase
 *       commit, an own COMMIT) and "rolled back" (a NO, a DONE for ROLLBACK, ROLLED_BACK_INSTEAD, an
 *       own ROLLBACK). Read-only branches and heuristics, which are neither, are left out.</li>
 * </ul>
 */
class ParticipantPropertyTest {
    private static final Action[] ACTIONS = Action.values();
    private static final XaResult[] RESULTS = XaResult.values();

    @Property(tries = 2000)
    void noBranchEverHasBothOutcomes(@ForAll @Size(min = 1, max = 150) List<@IntRange(min = 0, max = 1_000_000) Integer> choices) {
        // Checks: the three invariants above hold after every step of a generated run.
        new Run(choices).play();
    }

    /** One generated run; the choices drive every decision in turn. */
    private static final class Run {
        private final List<Integer> choices;
        private int next;
        private final Participant p = new Participant(ParticipantConfig.of("agent-1", List.of("db-1"), 50));
        private final List<BranchKey> keys = List.of(new BranchKey("g0", "b1"), new BranchKey("g1", "b1"), new BranchKey("g2", "b1"));
        private final Set<BranchKey> enlisted = new HashSet<>();
        private final Map<BranchKey, List<XaOp>> pending = new HashMap<>();
        private final Map<BranchKey, Set<Long>> tokens = new HashMap<>();
        private final Set<BranchKey> xaRolledBack = new HashSet<>();
        private final Set<BranchKey> xaCommitted = new HashSet<>();
        private final Set<BranchKey> wrote = new HashSet<>();
        private final Set<BranchKey> toldCommitted = new HashSet<>();
        private final Set<BranchKey> toldRolledBack = new HashSet<>();
        private final Set<BranchKey> readOnly = new HashSet<>();
        private final List<String> history = new ArrayList<>();
        private long now;

        Run(List<Integer> choices) {
            this.choices = choices;
        }

        private int pick(int n) {
            int c = choices.get(next % choices.size());
            next++;
            return Math.floorMod(c * 31 + next, n);
        }

        void play() {
            for (int i = 0; i < choices.size(); i++) {
                now += 10;
                BranchKey k = keys.get(pick(keys.size()));
                String server = pick(2) == 0 ? "s1" : "s2";
                ParticipantEvent e = switch (pick(14)) {
                    case 0, 1 -> enlist(k);
                    case 2 -> new ParticipantEvent.Held(k);
                    case 3 -> released(k);
                    case 4 -> new ParticipantEvent.Abandoned(k);
                    case 5, 6, 7 -> new ParticipantEvent.Command(server, k, ACTIONS[pick(ACTIONS.length)], pick(2) * 300L, now);
                    case 8 -> new ParticipantEvent.CallerCommand(k, ACTIONS[pick(ACTIONS.length)], pick(2) * 300L, now);
                    case 9 -> pick(2) == 0 ? new ParticipantEvent.Connected(server, now) : new ParticipantEvent.Disconnected(server);
                    case 10 -> new ParticipantEvent.Recovered("db-1", List.of(k), now);
                    case 11 -> fire(k);
                    default -> complete(k);
                };
                if (e != null) {
                    step(e);
                }
            }
        }

        private ParticipantEvent enlist(BranchKey k) {
            if (!enlisted.add(k)) {
                return new ParticipantEvent.Sweep(now);
            }
            return new ParticipantEvent.Enlisted(k, "db-1", "s1");
        }

        private ParticipantEvent released(BranchKey k) {
            boolean w = pick(4) != 0;
            if (w) {
                wrote.add(k);
            }
            return new ParticipantEvent.Released(k, w, pick(6) == 0);
        }

        private ParticipantEvent fire(BranchKey k) {
            List<Long> armed = new ArrayList<>(tokens.getOrDefault(k, Set.of()));
            long token = armed.isEmpty() ? 1 : armed.get(pick(armed.size()));
            return new ParticipantEvent.TimerFired(k, token, now);
        }

        /** The database answers the branch's pending calls: all OK, or one of them ends in some other result. */
        private ParticipantEvent complete(BranchKey k) {
            List<XaOp> ops = pending.remove(k);
            if (ops == null) {
                return null;
            }
            XaResult r = pick(3) == 0 ? XaResult.OK : RESULTS[pick(RESULTS.length)];
            XaOp op = r == XaResult.OK ? ops.get(ops.size() - 1) : ops.get(pick(ops.size()));
            int upTo = ops.indexOf(op);
            for (int i = 0; i <= upTo; i++) {
                XaOp ran = ops.get(i);
                boolean ok = i < upTo || r == XaResult.OK;
                if (ok && ran == XaOp.ROLLBACK) {
                    xaRolledBack.add(k);
                }
                if (ok && (ran == XaOp.COMMIT || (ran == XaOp.COMMIT_ONE_PHASE && wrote.contains(k)))) {
                    xaCommitted.add(k);
                }
            }
            return new ParticipantEvent.XaCompleted(k, op, r);
        }

        private void step(ParticipantEvent e) {
            history.add(e.toString());
            ParticipantEffects fx = p.step(e);
            history.add("  -> " + fx);
            for (XaCall c : fx.xa()) {
                if (c.op() == XaOp.RECOVER) {
                    continue;
                }
                BranchKey k = c.key();
                if ((c.op() == XaOp.COMMIT || c.op() == XaOp.COMMIT_ONE_PHASE || c.op() == XaOp.PREPARE) && xaRolledBack.contains(k)) {
                    fail(k + ": XA " + c.op() + " after its XA ROLLBACK succeeded");
                }
                if ((c.op() == XaOp.ROLLBACK || c.op() == XaOp.END_FAIL) && xaCommitted.contains(k)) {
                    fail(k + ": XA " + c.op() + " after its XA COMMIT succeeded");
                }
            }
            Map<BranchKey, List<XaOp>> batch = new HashMap<>();
            for (XaCall c : fx.xa()) {
                if (c.key() != null) {
                    batch.computeIfAbsent(c.key(), x -> new ArrayList<>()).add(c.op());
                }
            }
            pending.putAll(batch); // an earlier batch still unanswered is lost with its connection
            for (TimerCommand t : fx.timers()) {
                Set<Long> armed = tokens.computeIfAbsent(t.key(), x -> new HashSet<>());
                if (t instanceof TimerCommand.Arm) {
                    armed.add(t.token());
                }
            }
            for (Outgoing m : fx.messages()) {
                claims(m.message());
            }
        }

        private void claims(Event m) {
            if (m instanceof Event.VoteReceived v) {
                BranchKey k = new BranchKey(v.gtrid(), v.bqual());
                if (v.vote() == Vote.READ_ONLY) {
                    readOnly.add(k);
                } else if (v.vote() == Vote.NO) {
                    told(k, toldRolledBack, toldCommitted, "NO");
                }
            } else if (m instanceof Event.AckReceived a) {
                BranchKey k = new BranchKey(a.gtrid(), a.bqual());
                if (a.result().isHeuristic()) {
                    return;
                }
                boolean committed = (a.action() == Action.COMMIT || a.action() == Action.COMMIT_ONE_PHASE)
                        && a.result() == AckResult.DONE;
                told(k, committed ? toldCommitted : toldRolledBack, committed ? toldRolledBack : toldCommitted,
                        a.action() + " " + a.result() + (a.autonomous() ? " (own decision)" : ""));
            }
        }

        private void told(BranchKey k, Set<BranchKey> now, Set<BranchKey> other, String what) {
            if (readOnly.contains(k)) {
                return;
            }
            now.add(k);
            if (other.contains(k)) {
                fail(k + ": told both outcomes, the latest " + what);
            }
        }

        private void fail(String why) {
            throw new AssertionError(why + "\n" + String.join("\n", history.subList(Math.max(0, history.size() - 40), history.size())));
        }
    }
}
