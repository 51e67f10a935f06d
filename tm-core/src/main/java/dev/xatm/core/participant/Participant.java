package dev.xatm.core.participant;

import dev.xatm.core.Action;
import dev.xatm.core.Ids;
import dev.xatm.core.participant.BranchState.Active;
import dev.xatm.core.participant.BranchState.Asker;
import dev.xatm.core.participant.BranchState.End;
import dev.xatm.core.participant.BranchState.Ended;
import dev.xatm.core.participant.BranchState.InDoubt;
import dev.xatm.core.participant.BranchState.Parked;
import dev.xatm.core.participant.BranchState.Prepared;
import dev.xatm.core.participant.BranchState.Purpose;
import dev.xatm.core.participant.BranchState.Willing;
import dev.xatm.core.participant.BranchState.Working;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The participant side of the protocol (what an agent does with the XA branches its application
 * holds) as a pure state machine: {@code step(ParticipantEvent) -> ParticipantEffects}, like the
 * coordinator's {@code Coordinator.step}. It owns each branch's one {@link BranchState}, 3PC's own
 * decisions and their timers, read-only votes, deferral while business code holds a branch, the
 * inquiry, recovery and resume policy, and which coordinator node serves a branch. It performs no
 * I/O, reads no clock and draws no random numbers: the same events always give the same effects.
 *
 * <p>Not thread-safe: the driver feeds one event at a time (from one thread, or under one lock).
 */
public final class Participant {

    /** Timer tokens: distinct for the participant's lifetime, so a late firing of a replaced timer is ignored. */
    static final class Tokens {
        private long last;

        long next() {
            return ++last;
        }
    }

    private final ParticipantConfig config;
    private final Commands commands;
    private final XaOutcomes outcomes = new XaOutcomes();
    private final Tokens tokens = new Tokens();
    private final Map<BranchKey, Tracked> branches = new LinkedHashMap<>();
    private final SortedSet<String> connected = new TreeSet<>();
    /** Gtrids a coordinator said are another deployment's: recovery leaves their branches alone. */
    private final Set<String> notMine = new HashSet<>();
    /**
     * Own decisions no stream has carried yet, oldest first, at most {@code finishedMemory}: each is
     * reported once, when a stream that serves its branch is open (the branch itself answers every
     * later command with the same report, so one report is enough).
     */
    private final Set<BranchKey> unreported = new LinkedHashSet<>();
    /** Cleanly finished branches, oldest first, at most {@code finishedMemory}; see {@link #retire}. */
    private final Set<BranchKey> finished = new LinkedHashSet<>();

    public Participant(ParticipantConfig config) {
        this.config = config;
        this.commands = new Commands(config.readOnlyVotes());
    }

    /**
     * A participant after a restart: it remembers only its journal of own decisions (everything else
     * is found again by XA RECOVER). Each is answered to every later command and reported on connect;
     * one whose XA call did not run is run again when XA RECOVER still lists the branch.
     */
    public static Participant restore(ParticipantConfig config, List<OwnDecision> journal) {
        Participant p = new Participant(config);
        for (OwnDecision d : journal) {
            End end = d.decision() == Action.COMMIT ? End.COMMITTED_ON_ITS_OWN : End.ROLLED_BACK_ON_ITS_OWN;
            p.branches.put(d.key(), new Tracked(d.key(), d.resourceId(), null, new Ended(end)));
            p.keepUnreported(d.key()); // whether the report left before the restart is not known: again, once
        }
        return p;
    }

    public ParticipantConfig config() {
        return config;
    }

    public ParticipantEffects step(ParticipantEvent e) {
        Out out = new Out(config.agentId(), tokens, connected);
        if (e instanceof ParticipantEvent.Enlisted x) {
            enlisted(x, out);
        } else if (e instanceof ParticipantEvent.Held x) {
            ifActive(x.key(), a -> new Active(a.holders() + 1, a.wrote(), a.doomed(), a.parked()));
        } else if (e instanceof ParticipantEvent.Released x) {
            released(x, out);
        } else if (e instanceof ParticipantEvent.Abandoned x) {
            abandoned(x.key(), out);
        } else if (e instanceof ParticipantEvent.CallerCommand x) {
            command(x.key(), null, Asker.CALLER, x.action(), x.participantTimeoutMillis(), x.nowMillis(), out);
        } else if (e instanceof ParticipantEvent.CallerDone x) {
            callerDone(x, out);
        } else if (e instanceof ParticipantEvent.Command x) {
            command(x.key(), x.server(), Asker.server(x.server()), x.action(), x.participantTimeoutMillis(), x.nowMillis(), out);
        } else if (e instanceof ParticipantEvent.Connected x) {
            connected(x, out);
        } else if (e instanceof ParticipantEvent.Disconnected x) {
            disconnected(x, out);
        } else if (e instanceof ParticipantEvent.Refused x) {
            refused(x, out);
        } else if (e instanceof ParticipantEvent.XaCompleted x) {
            Tracked t = branches.get(x.key());
            // a result of a call nobody waits for (a rollback after a NO) changes nothing
            if (t != null && t.state instanceof Working w) {
                outcomes.completed(t, w, x.op(), x.result(), out);
                boolean firstRun = (w.purpose() == Purpose.OWN_COMMIT || w.purpose() == Purpose.OWN_ROLLBACK)
                        && !(w.before() instanceof Ended);
                if (firstRun && t.state instanceof Ended done && done.end().ownDecision() != null) {
                    reportOnce(t, out); // a re-run by xid after a restart was reported from the journal
                }
            }
        } else if (e instanceof ParticipantEvent.Recovered x) {
            recovered(x, out);
        } else if (e instanceof ParticipantEvent.TimerFired x) {
            timerFired(x, out);
        } else if (e instanceof ParticipantEvent.Sweep) {
            sweep(out);
        } else {
            throw new IllegalArgumentException("unknown event " + e);
        }
        retire(e, out);
        return out.fx.build();
    }

    /**
     * Forgets the oldest cleanly finished branches beyond {@code finishedMemory}, as the agent's
     * finished-branch memory does: a command resent after that is answered as for a branch not in
     * memory, which for these ends is the same answer (a COMMIT by xid finds XAER_NOTA: done; a ROLLBACK
     * likewise; a phase-1 command hears NO, which the coordinator only sends before any outcome). Not
     * forgotten: own decisions (a late ROLLBACK of an own COMMIT would find XAER_NOTA and be acknowledged
     * as done, hiding the heuristic), heuristics (asked about until a coordinator settles them) and
     * one-phase commits whose outcome is unknown; all are rare and bounded by the journal or the database.
     */
    private void retire(ParticipantEvent e, Out out) {
        BranchKey key = keyOf(e);
        Tracked own = key == null ? null : branches.get(key);
        if (own != null) {
            out.touched.add(own);
        }
        for (Tracked t : out.touched) {
            if (t.state instanceof Ended end && forgettable(end.end()) && branches.get(t.key) == t) {
                finished.remove(t.key); // re-finished (known again by a late command): now the newest
                finished.add(t.key);
            }
        }
        Iterator<BranchKey> oldest = finished.iterator();
        while (finished.size() > config.finishedMemory()) {
            BranchKey k = oldest.next();
            oldest.remove();
            if (branches.get(k) != null && branches.get(k).state instanceof Ended end && forgettable(end.end())) {
                branches.remove(k);
            }
        }
    }

    private static boolean forgettable(End end) {
        return end == End.COMMITTED || end == End.ROLLED_BACK || end == End.READ_ONLY;
    }

    private static BranchKey keyOf(ParticipantEvent e) {
        if (e instanceof ParticipantEvent.Enlisted x) {
            return x.key();
        } else if (e instanceof ParticipantEvent.Released x) {
            return x.key();
        } else if (e instanceof ParticipantEvent.Abandoned x) {
            return x.key();
        } else if (e instanceof ParticipantEvent.CallerCommand x) {
            return x.key();
        } else if (e instanceof ParticipantEvent.Command x) {
            return x.key();
        } else if (e instanceof ParticipantEvent.XaCompleted x) {
            return x.key();
        } else if (e instanceof ParticipantEvent.TimerFired x) {
            return x.key();
        }
        return null;
    }

    // ---- the business code ----

    private void enlisted(ParticipantEvent.Enlisted x, Out out) {
        Tracked t = branches.get(x.key());
        if (t != null) {
            out.problem(t, "XA START of a branch this agent already holds: ignored");
        } else {
            branches.put(x.key(), new Tracked(x.key(), x.resourceId(), x.server(), new Active(1, false, false, null)));
        }
    }

    private void ifActive(BranchKey key, java.util.function.UnaryOperator<Active> change) {
        Tracked t = branches.get(key);
        if (t != null && t.state instanceof Active a) {
            t.state = change.apply(a);
        }
    }

    private void released(ParticipantEvent.Released x, Out out) {
        Tracked t = branches.get(x.key());
        if (t == null || !(t.state instanceof Active a)) {
            return;
        }
        int holders = Math.max(0, a.holders() - 1);
        Parked parked = a.parked();
        t.state = new Active(holders, a.wrote() || x.wrote(), a.doomed() || x.failed(), holders == 0 ? null : parked);
        if (holders == 0 && parked != null) {
            // the command that came while the business code held the connection runs now
            commands.run(t, parked.asker(), parked.action(), parked.participantTimeoutMillis(), out);
        }
    }

    private void abandoned(BranchKey key, Out out) {
        Tracked t = branches.get(key);
        if (t == null) {
            return;
        }
        if (t.state instanceof Active a) {
            out.xa(t, XaOp.END_FAIL, XaOp.ROLLBACK);
            t.state = new Ended(End.ROLLED_BACK);
            answerParked(t, a.parked(), out);
        } else if (t.state instanceof Willing w) {
            out.cancel(t, w.timer());
            out.xa(t, XaOp.ROLLBACK);
            t.state = new Ended(End.ROLLED_BACK);
        }
    }

    /** A command parked on a branch that is gone now hears what a resend would. */
    private void answerParked(Tracked t, Parked parked, Out out) {
        if (parked != null) {
            commands.run(t, parked.asker(), parked.action(), parked.participantTimeoutMillis(), out);
        }
    }

    private void callerDone(ParticipantEvent.CallerDone x, Out out) {
        Tracked t = branches.get(x.key());
        if (t != null && t.state instanceof Prepared p && p.inCaller()) {
            t.state = new Prepared(p.timer(), p.byXid(), false);
            String to = x.outcomeUnknown() ? out.target(t) : null;
            if (to != null) {
                // the caller's commit request may or may not have reached a coordinator: its store knows
                out.inquiry(t, to);
            }
        }
    }

    // ---- phase commands ----

    private void command(BranchKey key, String server, Asker asker, Action a, long timeout, long now, Out out) {
        Tracked t = branches.get(key);
        if (t == null) {
            if (a == Action.COMMIT || a == Action.ROLLBACK) {
                // Not in memory (a restart, or XA RECOVER has not listed it yet): by xid. A COMMIT comes only
                // after this branch voted YES, so it was prepared and XAER_NOTA means it is committed.
                t = new Tracked(key, null, server, new Prepared(0, true, false));
                branches.put(key, t);
            } else {
                // Unknown: it rolled back (a restart, its session died) and nothing was prepared. Remembered
                // so, so that a COMMIT that should never follow is refused rather than run by xid.
                t = new Tracked(key, null, server, new Ended(End.ROLLED_BACK));
                branches.put(key, t);
            }
        }
        if (server != null) {
            t.server = server; // the node that commands it serves it now (an adopter after a takeover)
        }
        t.heardAt(now);
        commands.run(t, asker, a, timeout, out);
    }

    // ---- the streams ----

    private void connected(ParticipantEvent.Connected x, Out out) {
        connected.add(x.server());
        for (Tracked t : branches.values()) {
            boolean servedHere = t.server == null || t.server.equals(x.server()) || !connected.contains(t.server);
            if (!servedHere) {
                continue;
            }
            if (asksAbout(t)) {
                out.inquiry(t, x.server());
                t.heardAt(x.nowMillis());
            } else if (t.state instanceof Ended e && e.end().ownDecision() != null && reportsTo(t, x.server())
                    && unreported.remove(t.key)) {
                out.ownDecision(t, Asker.server(x.server()), e.end().ownDecision());
            }
        }
        retryInDoubt(out);
        recover(out);
    }

    /**
     * The stream to a server ended. That server aborts every unfinished transaction with a branch not
     * yet prepared here (the branch "died with the agent's session") and sends nothing more about it;
     * a restarted server does not even know it (presumed abort). So, as the agent does, its unprepared
     * branches (XA-started, or ended by a YES to CAN_COMMIT) are rolled back now rather than holding
     * their connections and row locks until a ROLLBACK that never comes; one the business code still
     * holds is rolled back when it lets go (its next statement fails). Only the branches that server
     * serves: the others' servers still count on theirs. A branch riding on its caller's commit request
     * (no server yet) is unknown to every server, which aborts nothing for it: left alone. Prepared
     * branches wait for the decision (asked about when a stream is back).
     */
    private void disconnected(ParticipantEvent.Disconnected x, Out out) {
        connected.remove(x.server());
        for (Tracked t : branches.values()) {
            if (!x.server().equals(t.server)) {
                continue;
            }
            if (t.state instanceof Active a) {
                t.state = new Active(a.holders(), a.wrote(), true, a.parked());
                commands.run(t, Asker.NOBODY, Action.ROLLBACK, 0, out);
            } else if (t.state instanceof Willing) {
                commands.run(t, Asker.NOBODY, Action.ROLLBACK, 0, out);
            }
        }
    }

    /**
     * Where an own decision goes: the branch's server, which runs its transaction (the agent waits for
     * the owner's stream, as another node would only drop it), or any node for one whose server is not
     * known (restored from the journal).
     */
    private static boolean reportsTo(Tracked t, String server) {
        return t.server == null || t.server.equals(server);
    }

    /** Sends an own decision now if its server's stream is open, else keeps it for the Connected of that server. */
    private void reportOnce(Tracked t, Out out) {
        String to = t.server == null ? out.target(t) : connected.contains(t.server) ? t.server : null;
        if (to != null) {
            unreported.remove(t.key);
            out.ownDecision(t, Asker.server(to), ((Ended) t.state).end().ownDecision());
        } else {
            keepUnreported(t.key);
        }
    }

    private void keepUnreported(BranchKey key) {
        unreported.add(key);
        Iterator<BranchKey> oldest = unreported.iterator();
        while (unreported.size() > config.finishedMemory()) {
            // its branch still answers the coordinator's next command for it with the same report
            oldest.next();
            oldest.remove();
        }
    }

    private void refused(ParticipantEvent.Refused x, Out out) {
        if (x.notMine()) {
            notMine.add(x.gtrid());
            // taken up by a recovery that asks about everything: never ours to finish
            branches.values().removeIf(t -> t.key.gtrid().equals(x.gtrid()) && t.state instanceof Prepared p && p.byXid()
                    && !ours(t.key));
            return;
        }
        for (Tracked t : branches.values()) {
            if (t.key.gtrid().equals(x.gtrid()) && t.state instanceof Prepared p && !p.inCaller()) {
                out.inquiry(t, x.server());
            }
        }
    }

    // ---- recovery ----

    private void sweep(Out out) {
        retryInDoubt(out);
        recover(out);
    }

    private void recover(Out out) {
        for (String r : config.resources()) {
            out.fx.xa(new XaCall(null, r, XaOp.RECOVER));
        }
    }

    private void retryInDoubt(Out out) {
        for (Tracked t : branches.values()) {
            if (t.state instanceof InDoubt d) {
                t.state = new Working(Purpose.ROLLBACK, Asker.NOBODY, 0, d);
                out.xa(t, XaOp.ROLLBACK);
            }
        }
    }

    private void recovered(ParticipantEvent.Recovered x, Out out) {
        for (BranchKey key : x.listed()) {
            if (!asksAboutBranchesOf(key)) {
                continue;
            }
            Tracked t = branches.get(key);
            if (t == null) {
                t = new Tracked(key, x.resourceId(), null, new Prepared(0, true, false));
                branches.put(key, t);
            } else if (t.resourceId == null) {
                t.resourceId = x.resourceId();
            }
            if (t.state instanceof Ended e && e.end().ownDecision() != null) {
                // an own decision whose XA call did not run (or ran before a restart lost the answer): again, by xid
                Purpose p = e.end().ownDecision() == Action.COMMIT ? Purpose.OWN_COMMIT : Purpose.OWN_ROLLBACK;
                t.state = new Working(p, Asker.NOBODY, 0, e);
                out.xa(t, e.end().ownDecision() == Action.COMMIT ? XaOp.COMMIT : XaOp.ROLLBACK);
                continue;
            }
            boolean due = !t.heard || x.nowMillis() - t.lastHeardMillis >= config.reinquireMillis();
            String to = out.target(t);
            if (asksAbout(t) && due && to != null) {
                out.inquiry(t, to);
                t.heardAt(x.nowMillis());
            }
        }
    }

    /** A prepared branch nobody waits for in this process, or one its database decided on its own. */
    private static boolean asksAbout(Tracked t) {
        return (t.state instanceof Prepared p && !p.inCaller())
                || (t.state instanceof Ended e && e.end().heuristic() != null);
    }

    /** Recovery's filter: this deployment's branches, or (misconfigured) every one not refused as another's. */
    private boolean asksAboutBranchesOf(BranchKey key) {
        return ours(key) || (config.asksAboutEverything() && !notMine.contains(key.gtrid()));
    }

    private boolean ours(BranchKey key) {
        return config.clusterId() == null || config.clusterId().equals(Ids.clusterOf(key.gtrid()));
    }

    // ---- 3PC timers ----

    private void timerFired(ParticipantEvent.TimerFired x, Out out) {
        Tracked t = branches.get(x.key());
        if (t == null || x.token() == 0) {
            return;
        }
        if (t.state instanceof Willing w && w.timer() == x.token()) {
            // no PRE_COMMIT after a YES to CAN_COMMIT: nothing is durable yet, roll back
            decideAlone(t, Action.ROLLBACK, out);
        } else if (t.state instanceof Prepared p && p.timer() == x.token()) {
            // no decision after acknowledging PRE_COMMIT: every participant prepared, so commit
            decideAlone(t, Action.COMMIT, out);
        }
    }

    private void decideAlone(Tracked t, Action decision, Out out) {
        out.fx.journal(new OwnDecision(t.key, t.resourceId, decision));
        BranchState before = t.state;
        t.state = new Working(decision == Action.COMMIT ? Purpose.OWN_COMMIT : Purpose.OWN_ROLLBACK, Asker.NOBODY, 0, before);
        out.xa(t, decision == Action.COMMIT ? XaOp.COMMIT : XaOp.ROLLBACK);
    }

    // ---- views, for drivers and tests ----

    /** The branch's state, if the participant remembers it. */
    public Optional<BranchState> state(BranchKey key) {
        Tracked t = branches.get(key);
        return t == null ? Optional.empty() : Optional.of(t.state);
    }

    /** The node that serves the branch, if known. */
    public Optional<String> server(BranchKey key) {
        Tracked t = branches.get(key);
        return t == null ? Optional.empty() : Optional.ofNullable(t.server);
    }

    /** Every branch remembered, in the order first seen. */
    public List<BranchKey> branches() {
        return Collections.unmodifiableList(new ArrayList<>(branches.keySet()));
    }

    public Set<String> connectedServers() {
        return Collections.unmodifiableSet(connected);
    }
}
