package dev.xatm.core.sim;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.Ids;
import dev.xatm.core.Outbound;
import dev.xatm.core.participant.BranchKey;
import dev.xatm.core.participant.OwnDecision;
import dev.xatm.core.participant.Outgoing;
import dev.xatm.core.participant.Participant;
import dev.xatm.core.participant.ParticipantConfig;
import dev.xatm.core.participant.ParticipantEffects;
import dev.xatm.core.participant.ParticipantEvent;
import dev.xatm.core.participant.TimerCommand;
import dev.xatm.core.participant.XaCall;
import dev.xatm.core.participant.XaOp;
import dev.xatm.core.participant.XaResult;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A thin simulated driver of the real participant core ({@link Participant}): it turns the world's
 * calls into {@link ParticipantEvent}s, runs the XA calls the core asks for on its {@link SimDatabase}
 * and feeds their results back, keeps the core's timers on the world's clock, journals its own
 * decisions (they survive a crash, as a real agent's journal does), and hands its messages to the
 * world's network. It decides nothing: every rule is the core's.
 *
 * <p>The business code sometimes keeps holding a registered branch for a while after its work
 * ({@code Held}, released later at a tick), so phase commands arrive while it is held; any XA call on
 * a held branch fails the run. A crash loses the core (a new one is restored from the journal), its
 * timers and the application's threads (and their holds); the database keeps its prepared branches.
 */
final class SimAgent {
    /** The coordinator's name on the agent's one stream (a single-coordinator world). */
    static final String SERVER = "coordinator";

    /** What the agent does to the world. */
    interface World {
        void send(int agent, Event e);

        /** A message on the stream to {@code server}; a world of one coordinator has one stream. */
        default void send(int agent, String server, Event e) {
            send(agent, e);
        }

        void trace(String line);

        void count(String what);
    }

    /** The recovery sweep runs this often by default (each agent at its own phase): far below the re-inquiry interval. */
    static final long SWEEP_TICKS = 10;

    private record Armed(BranchKey key, long token, long atTick) {}

    /** A branch the business code still holds, let go of at {@code atTick}. */
    private record Lingering(BranchKey key, long atTick) {}

    /**
     * Cleanly finished branches the core remembers: small, so that the simulation forgets some and a
     * late resend meets a forgotten branch (the agent's default is 10,000).
     */
    static final int FINISHED_MEMORY = 32;

    final int index;
    final String agentId;
    final String resourceId;
    private final SimDatabase database;
    private final String clusterId;
    private final ParticipantConfig config;
    private final UnaryOperator<ParticipantStep> plant;
    private final World world;
    private final List<OwnDecision> journal = new ArrayList<>();
    private final List<Armed> timers = new ArrayList<>();
    private final List<Lingering> lingering = new ArrayList<>();
    private final long sweepTicks;
    private ParticipantStep core;
    private boolean crashed;
    long restartAt;

    /**
     * @param plant               wraps the core's step (a planted bug); identity for the real participant
     * @param asksAboutEverything recovery leaves out the cluster filter (a misconfigured or older agent)
     */
    SimAgent(int index, SimDatabase database, String clusterId, boolean asksAboutEverything, long reinquireTicks,
             UnaryOperator<ParticipantStep> plant, World world) {
        this(index, database, clusterId, asksAboutEverything, reinquireTicks, SWEEP_TICKS, plant, world);
    }

    /** As above, with the recovery sweep every {@code sweepTicks}. */
    SimAgent(int index, SimDatabase database, String clusterId, boolean asksAboutEverything, long reinquireTicks, long sweepTicks,
             UnaryOperator<ParticipantStep> plant, World world) {
        this.index = index;
        this.sweepTicks = sweepTicks;
        this.agentId = "agent-" + index;
        this.resourceId = "db-" + index;
        this.database = database;
        this.clusterId = clusterId;
        this.config = new ParticipantConfig(agentId, List.of(resourceId), true, reinquireTicks, clusterId, asksAboutEverything,
                FINISHED_MEMORY);
        this.plant = plant;
        this.world = world;
        this.core = plant.apply(new Participant(config)::step);
    }

    SimDatabase database() {
        return database;
    }

    boolean crashed() {
        return crashed;
    }

    // ---- the business code ----

    /** The client's XA START on this database; it writes (or not) and lets go of the connection. */
    boolean start(BranchId x, boolean wrote) {
        return start(x, wrote, false, 0);
    }

    /**
     * As {@link #start(BranchId, boolean)}, for a branch registered with the coordinator: with
     * {@code mayLinger}, the business code sometimes keeps holding the connection for a while (a second
     * scope, {@code Held}), so that a phase command arriving meanwhile is parked by the core and runs
     * when it lets go. Not for a branch its own thread commits (one round trip): that thread is the
     * business code, which lets go before it commits.
     */
    boolean start(BranchId x, boolean wrote, boolean mayLinger, long now) {
        return start(x, wrote, mayLinger, now, SERVER);
    }

    /** As above, for a branch registered with coordinator node {@code server} (several nodes on one store). */
    boolean start(BranchId x, boolean wrote, boolean mayLinger, long now, String server) {
        if (crashed || !database.start(x, wrote)) {
            return false;
        }
        BranchKey k = key(x);
        run(new ParticipantEvent.Enlisted(k, resourceId, server), now);
        long linger = mayLinger ? database.lingerTicks() : 0;
        if (linger > 0) {
            run(new ParticipantEvent.Held(k), now);
            lingering.add(new Lingering(k, now + linger));
            world.count("branches the business code held on to after its work");
        }
        run(new ParticipantEvent.Released(k, wrote, false), now);
        return true;
    }

    /** The client gives up on its branch (it learnt the transaction rolled back, or it died with its session). */
    void rollbackIfActive(BranchId x) {
        lingering.removeIf(l -> l.key().equals(key(x))); // the business code itself gives up: its scopes end
        if (!crashed) {
            run(new ParticipantEvent.Abandoned(key(x)), 0);
        }
    }

    /** The application's own thread runs a phase command on its branch (one round trip): the answer stays local. */
    Event runForCaller(BranchId x, Action action, long now) {
        return runForCaller(x, action, now, 0);
    }

    Event runForCaller(BranchId x, Action action, long now, long participantTimeoutMillis) {
        List<Event> answers = run(new ParticipantEvent.CallerCommand(key(x), action, participantTimeoutMillis, now), now);
        return answers.isEmpty() ? null : answers.get(answers.size() - 1);
    }

    void callerDone(BranchId x) {
        if (!crashed) {
            run(new ParticipantEvent.CallerDone(key(x)), 0);
        }
    }

    // ---- the stream ----

    /** A phase command from the coordinator. */
    void command(Outbound cmd, long now) {
        command(SERVER, cmd, now);
    }

    /** A phase command that came on the stream of coordinator node {@code server}. */
    void command(String server, Outbound cmd, long now) {
        if (clusterId != null && !clusterId.equals(Ids.clusterOf(cmd.gtrid()))) {
            // Only an inquiry could have brought this: a coordinator that answers for another deployment's
            // branch (presumed abort of a gtrid it never knew) undoes what that deployment may have committed.
            Invariants.fail(agentId + " of cluster " + clusterId + " was told to " + cmd.action() + " " + cmd.gtrid() + "/"
                    + cmd.bqual() + ", a branch of another cluster's deployment that shares its database");
        }
        run(new ParticipantEvent.Command(server, new BranchKey(cmd.gtrid(), cmd.bqual()), cmd.action(),
                cmd.participantTimeoutMillis(), now), now);
    }

    void connected(long now) {
        connected(SERVER, now);
    }

    void connected(String server, long now) {
        run(new ParticipantEvent.Connected(server, now), now);
    }

    void disconnected(long now) {
        disconnected(SERVER, now);
    }

    void disconnected(String server, long now) {
        if (!crashed) {
            run(new ParticipantEvent.Disconnected(server), now);
        }
    }

    void refused(String gtrid, boolean notMine, long now) {
        refused(SERVER, gtrid, notMine, now);
    }

    void refused(String server, String gtrid, boolean notMine, long now) {
        run(new ParticipantEvent.Refused(server, gtrid, notMine), now);
    }

    /** True while the business code still holds a branch (a lingering scope not yet closed). */
    boolean holdsAny() {
        return !lingering.isEmpty();
    }

    /** The timers that ran out, and the periodic recovery sweep (XA RECOVER; overdue inquiries). */
    void tick(long now) {
        if (crashed) {
            return;
        }
        // copies only when there is something to run: this is called every tick, mostly with nothing due
        for (Lingering l : lingering.isEmpty() ? List.<Lingering>of() : List.copyOf(lingering)) {
            if (now >= l.atTick() && lingering.remove(l)) {
                run(new ParticipantEvent.Released(l.key(), false, false), now);
            }
        }
        for (Armed a : timers.isEmpty() ? List.<Armed>of() : List.copyOf(timers)) {
            if (now >= a.atTick() && timers.remove(a)) {
                run(new ParticipantEvent.TimerFired(a.key(), a.token(), now), now);
            }
        }
        if (now % sweepTicks == index % sweepTicks) {
            run(new ParticipantEvent.Sweep(now), now);
        }
    }

    // ---- crashes ----

    /** The agent and its database crash together: sessions die, memory and timers are lost, the journal stays. */
    void crash(long restartAt) {
        crashed = true;
        this.restartAt = restartAt;
        database.sessionsDied(clusterId);
        timers.clear();
        lingering.clear(); // the business threads died with the process
        core = plant.apply(Participant.restore(config, journal)::step);
    }

    void restart() {
        crashed = false;
    }

    /** 3PC: what it decided on its own (the journal). */
    Map<BranchKey, Action> decidedOnItsOwn() {
        Map<BranchKey, Action> out = new LinkedHashMap<>();
        journal.forEach(d -> out.put(d.key(), d.decision()));
        return out;
    }

    // ---- the driver loop ----

    /** Steps the core with {@code first} and every XA result that follows; returns the answers for the caller. */
    private List<Event> run(ParticipantEvent first, long now) {
        List<Event> toCaller = new ArrayList<>();
        Deque<ParticipantEvent> queue = new ArrayDeque<>();
        queue.add(first);
        while (!queue.isEmpty()) {
            ParticipantEvent e = queue.poll();
            ParticipantEffects fx = core.step(e);
            if (e == first && e instanceof ParticipantEvent.Released && !fx.xa().isEmpty()) {
                world.count("phase commands parked while the business code held the branch, run when it let go");
            }
            if (e == first && e instanceof ParticipantEvent.Disconnected && !fx.xa().isEmpty()) {
                world.count("streams lost with unprepared branches, rolled back by their agent");
            }
            if (!fx.journal().isEmpty()) {
                world.trace(agentId + " decides on its own: " + fx.journal());
                fx.journal().forEach(d -> world.count("3PC participants that decided on their own: " + d.decision()));
            }
            journal.addAll(fx.journal());
            for (TimerCommand t : fx.timers()) {
                if (t instanceof TimerCommand.Arm a) {
                    timers.add(new Armed(a.key(), a.token(), now + a.afterMillis()));
                } else {
                    timers.removeIf(a -> a.token() == t.token());
                }
            }
            runXa(fx.xa(), now, queue);
            for (Outgoing m : fx.messages()) {
                if (m.toCaller()) {
                    toCaller.add(m.message());
                } else {
                    world.send(index, m.server(), m.message());
                }
            }
            for (String p : fx.problems()) {
                if (p.contains("COMMIT of a")) {
                    // the coordinator commits only branches that voted YES: a COMMIT here is its bug
                    Invariants.fail("participant problem: " + p);
                }
                // e.g. a late inquiry's answer for a gtrid the coordinator forgot (presumed abort) reaching a
                // branch that committed meanwhile: refused, as a real agent logs and refuses it
                world.trace(agentId + " refuses: " + p);
                world.count("participant refused a command: " + p.replaceAll(".*\\): ", "").replaceAll(":.*", ""));
            }
        }
        return toCaller;
    }

    /** Runs each branch's calls in order up to the first that is not OK (END_FAIL's failure ignored); one result per branch. */
    private void runXa(List<XaCall> calls, long now, Deque<ParticipantEvent> results) {
        BranchKey current = null;
        XaOp lastOp = null;
        XaResult last = null;
        boolean stopped = false;
        for (XaCall c : calls) {
            if (c.op() == XaOp.RECOVER) {
                results.add(new ParticipantEvent.Recovered(c.resourceId(), database.recover(), now));
                continue;
            }
            if (lingering.stream().anyMatch(l -> l.key().equals(c.key()))) {
                // XA END (or anything) now would race the statement the business code may be running
                Invariants.fail(agentId + " ran XA " + c.op() + " on " + c.key() + " while the business code still holds it");
            }
            if (!c.key().equals(current)) {
                if (current != null) {
                    results.add(new ParticipantEvent.XaCompleted(current, lastOp, last));
                }
                current = c.key();
                stopped = false;
            }
            if (stopped) {
                continue;
            }
            lastOp = c.op();
            last = database.run(c);
            stopped = last != XaResult.OK && c.op() != XaOp.END_FAIL;
        }
        if (current != null) {
            results.add(new ParticipantEvent.XaCompleted(current, lastOp, last));
        }
    }

    private static BranchKey key(BranchId x) {
        return new BranchKey(x.gtrid(), x.bqual());
    }

    /** An acknowledgement of the agent's own decision, for traces. */
    static boolean isOwnDecision(Event e) {
        return e instanceof Event.AckReceived a && a.autonomous() && a.result() == AckResult.DONE;
    }
}
