package dev.xatm.client.agent;

import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.client.enlist.XidCalls;
import dev.xatm.core.Event;
import dev.xatm.core.participant.BranchKey;
import dev.xatm.core.participant.OwnDecision;
import dev.xatm.core.participant.TimerCommand;
import dev.xatm.core.participant.XaCall;
import dev.xatm.core.participant.XaOp;
import dev.xatm.core.participant.XaResult;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AgentMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The real world of a {@link ParticipantDriver}: XA calls on the branch's own connection
 * ({@link Branch#run}) or by xid on a fresh one ({@link XidCalls}), XA RECOVER, the core's messages on
 * the coordinator streams ({@link ParticipantWire}), its timers on a scheduler, and its journal of own
 * decisions. It decides nothing.
 *
 * <p>The journal is kept in memory, as the agent keeps its own decisions today: after a restart the
 * coordinator's resend and XA RECOVER find the branch again. A durable journal plugs in here.
 *
 * <p>Thread-safe.
 */
final class AgentPorts implements ParticipantDriver.Ports {
    private static final Logger log = LoggerFactory.getLogger(AgentPorts.class);

    private final Function<TmXid, Branch> held;
    private final Supplier<List<EnlistedResource>> resources;
    private final Function<String, Optional<List<BranchKey>>> recover;
    private final BiConsumer<String, AgentMessage> streams;
    private final ScheduledExecutorService scheduler;
    private volatile Consumer<TimerCommand.Arm> fire = a -> { };
    private final Map<Long, ScheduledFuture<?>> armed = new ConcurrentHashMap<>();
    private final List<OwnDecision> journal = new CopyOnWriteArrayList<>();

    /**
     * @param held      the branch this process holds under an xid (with its connection), or null
     * @param resources the databases this agent enlists, for phase two by xid of a branch whose database is not known
     * @param recover   XA RECOVER on the resource of that id: the branches of this deployment it lists; empty when it failed
     * @param streams   sends a message on the stream of the coordinator node of that name (dropped while it is closed)
     * @param scheduler where the timers run
     */
    AgentPorts(Function<TmXid, Branch> held, Supplier<List<EnlistedResource>> resources,
               Function<String, Optional<List<BranchKey>>> recover, BiConsumer<String, AgentMessage> streams,
               ScheduledExecutorService scheduler) {
        this.held = held;
        this.resources = resources;
        this.recover = recover;
        this.streams = streams;
        this.scheduler = scheduler;
    }

    /** Where a timer that ran out goes: the driver's {@link ParticipantDriver#fired}. Set once, before the first step. */
    void onFire(Consumer<TimerCommand.Arm> fire) {
        this.fire = fire;
    }

    @Override
    public void journal(List<OwnDecision> decisions) {
        journal.addAll(decisions);
        decisions.forEach(d -> log.warn("Branch {} on {}: the participant decides {} on its own (3PC timer ran out)",
                d.key(), d.resourceId(), d.decision()));
    }

    /** The own decisions taken so far, oldest first: what {@code Participant.restore} takes. */
    List<OwnDecision> journal() {
        return List.copyOf(journal);
    }

    @Override
    public void arm(TimerCommand.Arm arm) {
        try {
            armed.put(arm.token(), scheduler.schedule(() -> {
                armed.remove(arm.token());
                fire.accept(arm);
            }, arm.afterMillis(), TimeUnit.MILLISECONDS));
        } catch (RejectedExecutionException closing) {
            // the agent is closing: nobody is left to decide alone
        }
    }

    @Override
    public void cancel(TimerCommand.Cancel cancel) {
        ScheduledFuture<?> f = armed.remove(cancel.token());
        if (f != null) {
            f.cancel(false);
        }
    }

    /** Timers armed and not yet fired or cancelled; for tests and metrics. */
    int pendingTimers() {
        return armed.size();
    }

    @Override
    public XaResult run(XaCall call) {
        TmXid xid = new TmXid(call.key().gtrid(), call.key().bqual());
        try {
            Branch b = held.apply(xid);
            if (b != null) {
                return b.run(call.op());
            }
            if (call.op() == XaOp.COMMIT || call.op() == XaOp.ROLLBACK) {
                return XidCalls.run(xid, call.op(), candidates(call.resourceId()));
            }
            log.warn("XA {} of branch {}: this process does not hold it; not run", call.op(), xid);
            return XaResult.UNAVAILABLE;
        } catch (RuntimeException e) {
            log.warn("XA {} of branch {} failed unexpectedly; taken as unavailable", call.op(), xid, e);
            return XaResult.UNAVAILABLE;
        }
    }

    /** The branch's database when the core knows it, else every one this agent enlists (each is asked in turn). */
    private List<EnlistedResource> candidates(String resourceId) {
        List<EnlistedResource> out = new ArrayList<>();
        for (EnlistedResource r : resources.get()) {
            if (r.supported() && (resourceId == null || resourceId.equals(r.resourceId()))) {
                out.add(r);
            }
        }
        return out;
    }

    @Override
    public Optional<List<BranchKey>> recover(String resourceId) {
        try {
            return recover.apply(resourceId);
        } catch (RuntimeException e) {
            log.warn("XA RECOVER on {} failed; the next sweep tries again", resourceId, e);
            return Optional.empty();
        }
    }

    @Override
    public void send(String server, Event message) {
        ParticipantWire.toWire(message).ifPresent(m -> streams.accept(server, m));
    }

    @Override
    public void ended(BranchKey key, boolean clean) {
        Branch b = held.apply(new TmXid(key.gtrid(), key.bqual()));
        if (b != null) {
            b.finish(clean);
        }
    }

    @Override
    public void problem(String description) {
        log.error("Participant refuses a command the protocol never sends: {}", description);
    }
}
