package dev.xatm.client.agent;

import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.BranchAnswer;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.ResumeAnswer;
import dev.xatm.protocol.v1.ResumeRequest;
import dev.xatm.protocol.v1.ResumeResponse;
import dev.xatm.protocol.v1.Verdict;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Finishes prepared branches whose owner (a tm-server node) the agent cannot reach, with the
 * {@code Resume} RPC on another connected server (HA rule R4): a COMMIT or ROLLBACK verdict is run on
 * the branch as the command would be, and acknowledged to nobody (the owner, or its adopter, resends
 * COMMIT until an ack reaches it, and the branch answers that with DONE); ASK_OWNER (no decision yet,
 * owner alive) is asked again every tm.client.resume-interval-ms. Once the owner's link is back, an
 * Inquiry on it replaces the Resume (and the owner's Welcome asks about everything it owns anyway).
 *
 * <p>Untagged gtrids never come here: no server but the single one of a file store may say anything
 * about them. Thread-safe; rounds run on one scheduler thread, verdicts on the agent's workers.
 */
final class Resumer {
    private static final Logger log = LoggerFactory.getLogger(Resumer.class);
    /** Branches per Resume call. */
    static final int BATCH_MAX = 500;

    /** Runs a phase command on a branch (held, or found by XA RECOVER) without answering anybody. */
    @FunctionalInterface
    interface Execution {
        BranchAnswer run(TmXid xid, BranchCommand command);
    }

    private final String agentId;
    private final LinkSet links;
    private final ResumeQueue queue = new ResumeQueue(10_000);
    private final ScheduledExecutorService rounds;
    private final Executor workers;
    private final Execution execution;
    private final AgentListener listener;
    private final long callTimeoutMillis;
    private final long intervalMillis;
    private final AtomicBoolean roundQueued = new AtomicBoolean();

    Resumer(String agentId, LinkSet links, ScheduledExecutorService rounds, Executor workers, Execution execution,
            AgentListener listener, long callTimeoutMillis, long intervalMillis) {
        this.agentId = agentId;
        this.links = links;
        this.rounds = rounds;
        this.workers = workers;
        this.execution = execution;
        this.listener = listener;
        this.callTimeoutMillis = callTimeoutMillis;
        this.intervalMillis = intervalMillis;
    }

    void start() {
        rounds.scheduleWithFixedDelay(this::round, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    /** Asks about {@code xid} (prepared on {@code resourceId}, owned by {@code ownerNode}) from the next round on, which comes soon. */
    void add(TmXid xid, String resourceId, int ownerNode) {
        queue.add(xid, resourceId, ownerNode);
        soon();
    }

    /** The owner's link is back, and its Welcome asks about everything it owns. */
    void forget(int ownerNode) {
        queue.forget(ownerNode);
    }

    int pending() {
        return queue.size();
    }

    private void soon() {
        if (roundQueued.compareAndSet(false, true)) {
            try {
                rounds.execute(() -> {
                    roundQueued.set(false);
                    round();
                });
            } catch (RejectedExecutionException closing) {
                roundQueued.set(false);
            }
        }
    }

    /** One round: by Inquiry where the owner's link is back, else by Resume on any connected server. */
    private void round() {
        try {
            List<ResumeQueue.Entry> ask = new ArrayList<>();
            for (ResumeQueue.Entry e : queue.snapshot()) {
                ServerLink owner = links.connectedTo(e.ownerNode());
                if (owner != null && owner.inquire(e.xid(), e.resourceId())) {
                    queue.remove(e.xid());
                } else {
                    ask.add(e);
                }
            }
            ServerLink via = links.primary();
            if (ask.isEmpty() || via == null) {
                return;
            }
            for (int from = 0; from < ask.size(); from += BATCH_MAX) {
                resume(via, ask.subList(from, Math.min(ask.size(), from + BATCH_MAX)));
            }
        } catch (RuntimeException e) {
            log.warn("Agent {}: asking about branches of unreachable servers failed; trying again in {} ms", agentId, intervalMillis, e);
        }
    }

    private void resume(ServerLink via, List<ResumeQueue.Entry> batch) {
        ResumeRequest.Builder request = ResumeRequest.newBuilder();
        Map<TmXid, ResumeQueue.Entry> asked = new LinkedHashMap<>();
        for (ResumeQueue.Entry e : batch) {
            request.addBranches(Inquiry.newBuilder().setGtrid(e.xid().gtrid()).setBqual(e.xid().bqual()).setResourceId(e.resourceId()));
            asked.put(e.xid(), e);
        }
        ResumeResponse response;
        try {
            response = via.resume(request.build(), callTimeoutMillis);
        } catch (StatusRuntimeException e) {
            log.info("Agent {}: Resume on {} failed ({}); asking again in {} ms", agentId, via, e.getStatus(), intervalMillis);
            return;
        }
        for (ResumeAnswer a : response.getAnswersList()) {
            ResumeQueue.Entry e = asked.get(new TmXid(a.getGtrid(), a.getBqual()));
            if (e != null && a.getVerdict() == Verdict.VERDICT_NOT_MINE) {
                // another deployment's branch: no server of ours will ever answer for it; leave it alone
                queue.remove(e.xid());
                log.warn("Agent {}: {} says prepared branch {} belongs to another xatm deployment; left alone", agentId, via, e.xid());
                continue;
            }
            BranchCommand command = switch (a.getVerdict()) {
                case VERDICT_COMMIT -> BranchCommand.COMMIT;
                case VERDICT_ROLLBACK -> BranchCommand.ROLLBACK;
                default -> null; // ASK_OWNER: undecided while the owner lives; asked again next round
            };
            if (e == null || command == null) {
                continue;
            }
            queue.remove(e.xid());
            log.info("Agent {}: {} answered {} for prepared branch {} of unreachable node {}", agentId, via, a.getVerdict(), e.xid(),
                    e.ownerNode());
            workers.execute(() -> apply(e, command));
        }
    }

    /** Runs a verdict; one that did not take effect (the database unreachable, say) is asked about again. */
    private void apply(ResumeQueue.Entry e, BranchCommand command) {
        long start = System.nanoTime();
        BranchAnswer answer;
        try {
            answer = execution.run(e.xid(), command);
        } catch (RuntimeException failure) {
            log.error("{} of branch {} after Resume failed unexpectedly; asking again", command, e.xid(), failure);
            answer = BranchAnswer.NONE;
        }
        listener.commandExecuted(command.name(), answer.name(), System.nanoTime() - start);
        // DECIDED_*: a 3PC branch decided on its own; its report goes to the owner (PendingReports)
        // a heuristic ends phase 2 too (asking again cannot change it); it is logged at ERROR where it was met
        if (!answer.endsPhaseTwo() && answer != BranchAnswer.DECIDED_COMMIT && answer != BranchAnswer.DECIDED_ROLLBACK) {
            queue.add(e.xid(), e.resourceId(), e.ownerNode());
        }
    }
}
