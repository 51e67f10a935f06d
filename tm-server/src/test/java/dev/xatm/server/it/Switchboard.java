package dev.xatm.server.it;

import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.participant.BranchKey;
import dev.xatm.core.participant.ParticipantEvent;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.ProtocolError;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.Welcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * Between the test agent's stream and its participant core: what the server sends becomes a core
 * event (after the transport faults had their say: a command lost or held in the pipe), what the core
 * sends goes on the stream (unless a fault loses it, or a crash point fires after it) or back to a
 * test waiting in {@link #handle}. Everything received and sent is recorded. Thread-safe.
 */
final class Switchboard implements AgentStream.Listener {
    private static final Logger log = LoggerFactory.getLogger(Switchboard.class);
    /** The server name of {@link #handle}'s commands: their answers come back to the caller, not on the stream. */
    private static final String DIRECT = "direct";

    private final String agentId;
    /** The core's name for the agent's one server: the target it dials. */
    private final String server;
    private final AgentFaults faults;
    private final AgentObservations seen;
    /** Dies at a crash point: the point and the branch it fired at. */
    private final BiConsumer<TestAgent.CrashPoint, TmXid> die;
    private final ServerCommandChecks checks;
    private final ConcurrentHashMap<BranchKey, CompletableFuture<AgentMessage>> directAnswers = new ConcurrentHashMap<>();
    private AgentStream stream; // set once, before the stream opens
    private ParticipantDriver driver; // set once, before the stream opens
    private volatile Welcome welcome;

    Switchboard(String agentId, String server, AgentFaults faults, AgentObservations seen, BiConsumer<TestAgent.CrashPoint, TmXid> die) {
        this.agentId = agentId;
        this.server = server;
        this.faults = faults;
        this.seen = seen;
        this.die = die;
        this.checks = new ServerCommandChecks(seen.violations::add);
    }

    void connect(AgentStream stream, ParticipantDriver driver) {
        this.stream = stream;
        this.driver = driver;
    }

    String server() {
        return server;
    }

    /** The business code started {@code xid} here (what the server may send for it depends on it). */
    void begun(TmXid xid) {
        checks.begun(xid);
    }

    Welcome welcome() {
        return welcome;
    }

    // ---- from the server ----

    @Override
    public void received(ServerMessage m, int session) {
        switch (m.getBodyCase()) {
            case WELCOME -> {
                welcome = m.getWelcome();
                stream.welcomed();
                seen.welcomes.incrementAndGet();
                log.info("{}: connected (session {}) to {}", agentId, session, m.getWelcome().getServerId());
                driver.feed(new ParticipantEvent.Connected(server, ParticipantDriver.nowMillis()));
            }
            case COMMAND -> command(m.getCommand(), session);
            case ERROR -> {
                ProtocolError e = m.getError();
                seen.protocolErrors.add(e);
                log.warn("{}: server reported a protocol error: {} {}", agentId, e.getCode(), e.getMessage());
                if ("NOT_MINE".equals(e.getCode()) && !e.getGtrid().isEmpty()) {
                    driver.feed(new ParticipantEvent.Refused(server, e.getGtrid(), true));
                }
            }
            default -> seen.violations.add("unexpected server message " + m);
        }
    }

    @Override
    public void lost(int session) {
        if (faults.isDeafToStreamLoss()) {
            log.info("{}: stream {} lost, and the agent does not notice (fault)", agentId, session);
        } else {
            driver.feed(new ParticipantEvent.Disconnected(server));
        }
    }

    private void command(PhaseCommand c, int session) {
        TmXid xid;
        try {
            xid = new TmXid(c.getGtrid(), c.getBqual());
        } catch (IllegalArgumentException e) {
            seen.violations.add("command with an invalid xid: " + c);
            return;
        }
        seen.received.add(new TestAgent.Received(c.getAction(), xid, session, System.nanoTime()));
        log.info("{}: <- {} {}", agentId, c.getAction(), xid);
        checks.received(c, xid);
        if (faults.lost(c, xid, session)) {
            log.info("{}: {} {} lost on the way in (fault)", agentId, c.getAction(), xid);
        } else if (!faults.held(c)) {
            deliver(c);
        }
    }

    /** Hands a command to the core, as from the server's stream. */
    void deliver(PhaseCommand c) {
        Action action = WireMessages.action(c.getAction());
        if (action == null) {
            seen.violations.add("unknown action " + c.getAction() + " for " + c.getGtrid() + "/" + c.getBqual());
            return;
        }
        driver.feed(new ParticipantEvent.Command(server, new BranchKey(c.getGtrid(), c.getBqual()), action,
                c.getParticipantTimeoutMs(), ParticipantDriver.nowMillis()));
    }

    /**
     * Hands {@code c} to the core as if it came from a server, and returns the answer instead of
     * sending it; empty if the core answers nothing.
     */
    Optional<AgentMessage> handle(PhaseCommand c, Duration timeout) throws TimeoutException, InterruptedException {
        BranchKey key = new BranchKey(c.getGtrid(), c.getBqual());
        CompletableFuture<AgentMessage> answer = new CompletableFuture<>();
        directAnswers.put(key, answer);
        try {
            driver.feed(new ParticipantEvent.Command(DIRECT, key, WireMessages.action(c.getAction()), c.getParticipantTimeoutMs(),
                    ParticipantDriver.nowMillis()));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    return Optional.of(answer.get(20, TimeUnit.MILLISECONDS));
                } catch (TimeoutException notYet) {
                    if (driver.quiet(key) && !answer.isDone()) {
                        return Optional.empty();
                    }
                } catch (java.util.concurrent.ExecutionException impossible) {
                    throw new IllegalStateException(impossible);
                }
            }
            throw new TimeoutException("no answer to " + c.getAction() + " " + key + " within " + timeout);
        } finally {
            directAnswers.remove(key, answer);
        }
    }

    // ---- from the core ----

    /** The core's message to {@code to}: on the stream, or back to a test waiting in {@link #handle}. */
    void send(String to, Event message) {
        AgentMessage m = WireMessages.toWire(message);
        log.info("{}: -> {}", agentId, m.toString().replace('\n', ' '));
        if (m.hasInquiry()) {
            seen.inquiriesSent.incrementAndGet();
        }
        if (DIRECT.equals(to)) {
            BranchKey key = m.hasVote() ? new BranchKey(m.getVote().getGtrid(), m.getVote().getBqual())
                    : new BranchKey(m.getAck().getGtrid(), m.getAck().getBqual());
            CompletableFuture<AgentMessage> waiting = directAnswers.get(key);
            if (waiting != null) {
                waiting.complete(m);
            }
            return;
        }
        if (faults.lost(m)) {
            log.info("{}: vote for {}/{} lost on the way out (fault)", agentId, m.getVote().getGtrid(), m.getVote().getBqual());
            return;
        }
        if (stream.send(m)) {
            checks.sent(m);
        }
        if (m.hasVote() && m.getVote().getAnswering() == PhaseAction.CAN_COMMIT && m.getVote().getVote() == BranchVote.YES
                && faults.fires(TestAgent.CrashPoint.AGENT_AFTER_CAN_COMMIT)) {
            die.accept(TestAgent.CrashPoint.AGENT_AFTER_CAN_COMMIT, new TmXid(m.getVote().getGtrid(), m.getVote().getBqual()));
        }
    }
}
