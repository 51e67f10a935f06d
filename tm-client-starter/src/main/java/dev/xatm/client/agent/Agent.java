package dev.xatm.client.agent;

import dev.xatm.client.context.Observed;
import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.client.coordinator.CoordinatorChannels;
import dev.xatm.client.coordinator.ServerRoutes;
import dev.xatm.client.coordinator.StreamCommitter;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.BranchAnswer;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.XidMdc;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.CommitAnswer;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.PhaseCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The application instance's agent: one long-lived, authenticated Connect stream to each tm-server
 * ({@link ServerLink}), over which it receives phase commands for the branches it holds and answers
 * with votes and acks (design notes, agent contract; docs/ha.md). With several servers on a shared
 * store each gtrid names its owner ({@link GtridOwner}); the owner sends its commands, so losing one
 * server never cuts the agent off from the others.
 *
 * <ul>
 *   <li>A command is answered on the link it came on.</li>
 *   <li>On every Welcome of a link: Hello first, then an Inquiry on it for every branch held prepared
 *       that it serves (owner's node, or untagged and it is the primary link), and for the prepared
 *       branches of ours XA RECOVER finds: on the owner's link when that is connected, else by Resume
 *       on another server.</li>
 *   <li>Commands run on a small pool, serialised per branch by the branch itself; each is
 *       idempotent, so the coordinator's resends are harmless.</li>
 *   <li>A broken stream is reopened with exponential backoff; answers lost with it are recovered by
 *       the coordinator's resend on reconnect. The registered unprepared branches that server owns are
 *       rolled back at once (it aborts them); its prepared ones are asked about with {@code Resume} on
 *       another connected server every tm.client.resume-interval-ms ({@link Resumer}) until a
 *       verdict comes or the owner is back.</li>
 *   <li>A vote the coordinator does not know the transaction of comes back as a ProtocolError
 *       NOT_FOUND (the coordinator lost it in a restart before deciding: presumed abort). The error
 *       does not say which branch, so the agent asks again on that link about every branch it holds
 *       prepared there; the coordinator answers ROLLBACK for the unknown ones.</li>
 *   <li>3PC: a YES to CAN_COMMIT or PRE_COMMIT arms the branch's participant timer
 *       ({@link ParticipantTimers}). When it runs out the agent rolls back (after CAN_COMMIT) or
 *       commits (after PRE_COMMIT) on its own and reports it with an autonomous Ack on the owner's
 *       link: at once when it is up, else after its next Welcome ({@link PendingReports}); the branch
 *       answers every later command with that same report.</li>
 *   <li>A branch whose XA call lost its answer with the connection (the database killed the session,
 *       say) may be prepared in the database: a PREPARE that did not answer votes NO and the branch is
 *       rolled back by xid on a fresh connection; a COMMIT or ROLLBACK that did not answer is retried the
 *       same way, with backoff, until the database confirms ({@link InDoubtBranches}).</li>
 *   <li>Every tm.client.recovery-interval a {@link RecoverySweep} runs XA RECOVER and asks about each
 *       branch of ours that nobody here holds and that has been listed for longer than the safety
 *       interval, as after a reconnect.</li>
 *   <li>Membership: the servers a Welcome or a periodic {@code Members} call announces get a link of
 *       their own, unless a link was welcomed as that node or connects to that address already. A
 *       link welcomed as a node another connected link serves is a duplicate and is closed.</li>
 * </ul>
 *
 * <p>The agent wires its capabilities, one class each: {@link LinkEvents} (what the streams report),
 * {@link Membership}, {@link Inquiries} (asking about prepared branches), {@link BranchCommands}
 * (running a command on a branch, by xid when needed, with {@link InDoubtBranches}),
 * {@link OwnDecisions} (3PC), {@link AckBatcher}, and {@link AgentMessages} (the wire mappings); it
 * owns the executors and the calling thread's entry points.
 *
 * Thread-safe.
 */
public final class Agent implements AutoCloseable, StreamCommitter {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    /**
     * Server messages we let the coordinator send ahead of our reading them. gRPC's default asks for
     * one at a time; the server drops a command while its stream is not ready (it resends later), and
     * on the in-process transport of embedded mode "ready" means exactly "the client asked for more".
     * Reading is cheap (commands go to the bounded work queue), so a generous window costs nothing and
     * keeps a burst of commands from waiting for the resend timer.
     */
    static final int INBOUND_WINDOW = 1_000;

    private final AgentSettings settings;
    private final CoordinatorChannels channels;
    private final LinkSet links = new LinkSet();
    private final LinkEvents events;
    private final Inquiries inquiries;
    private final BranchTable table;
    private final Recoverer recoverer;
    private final AgentListener listener;
    private final ExecutorService workers;
    /** Reconnects of every link. */
    private final ScheduledExecutorService reconnects;
    /** Resume and Members calls: they block for up to the call timeout, so not on the reconnect thread. */
    private final ScheduledExecutorService ticks;
    private final ParticipantTimers timers;
    private final Resumer resumer;
    /** The in-doubt retries and the recovery sweep: blocking JDBC work, apart from the stream's threads. */
    private final ScheduledExecutorService recovery;
    private final BranchCommands commands;
    private final OwnDecisions ownDecisions;
    private final RecoverySweep sweep;
    private final Membership membership;
    private final AckBatcher acks = new AckBatcher(links::serving);
    private volatile boolean closed;
    /**
     * Drawn once per agent process and sent in every Hello, RegisterBranch and commit with votes: it
     * proves to the servers that a stream or call naming this agent id comes from this process, so no
     * other holder of the client token can replace our stream or vote in our name while it is alive, and
     * our own reconnect may still replace a half-dead stream of ours at once. Never logged.
     */
    private final String instanceSecret = drawInstanceSecret();

    /** One server (a file store, embedded mode, tests), default settings for what only clusters use. */
    public Agent(String agentId, CoordinatorChannel channel, BranchTable table, Supplier<List<EnlistedResource>> resources,
                 String gtridPrefix, long backoffInitialMillis, long backoffMaxMillis, int threads, AgentListener listener) {
        this(new AgentSettings(agentId, gtridPrefix, backoffInitialMillis, backoffMaxMillis, threads, 5_000, 1_000, 5_000),
                CoordinatorChannels.fixed(channel), table, resources, listener);
    }

    public Agent(AgentSettings settings, CoordinatorChannels channels, BranchTable table, Supplier<List<EnlistedResource>> resources,
                 AgentListener listener) {
        this.settings = settings;
        this.channels = channels;
        this.table = table;
        // Legacy gtrids (no cluster id) are ours when asked for, or when the servers predate cluster ids: then we mint them.
        this.recoverer = new Recoverer(resources, () -> new RecoveryFilter(settings.gtridPrefix(), links.clusterId(),
                settings.recoverLegacyXids() || links.serversPredateClusterIds()));
        this.listener = listener;
        AtomicInteger n = new AtomicInteger();
        int threads = settings.threads();
        // bounded: commands beyond the queue are dropped (the coordinator resends them)
        this.workers = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(10_000), r -> {
            Thread t = new Thread(r, "tm-agent-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, (r, pool) -> log.warn("Agent work queue full; a phase command is dropped until the coordinator resends it"));
        this.reconnects = scheduler("tm-agent-reconnect");
        this.ticks = scheduler("tm-agent-cluster");
        // the timers, the commands and the own decisions call each other: wired through this agent's methods
        this.timers = new ParticipantTimers(this::decideAlone);
        this.recovery = scheduler("tm-agent-recovery");
        this.commands = new BranchCommands(table, recoverer, timers, listener, settings, recovery, this::acknowledge,
                this::settledUnheld);
        this.ownDecisions = new OwnDecisions(settings, links, table, commands, timers, listener);
        this.resumer = new Resumer(settings.agentId(), links, ticks, workers, (xid, command) -> commands.execute(xid, command, 0), listener,
                settings.callTimeoutMillis(), settings.resumeIntervalMillis());
        this.inquiries = new Inquiries(links, table, resources, recoverer, resumer, workers);
        this.sweep = new RecoverySweep(resources, recoverer, commands::drives, inquiries::askAbout,
                settings.recoveryIntervalMillis(), settings.recoverySafetyMillis(), System::nanoTime, listener);
        this.membership = new Membership(settings, channels, links, this::openLink);
        this.events = new LinkEvents(settings, links, table, workers, listener, resumer, ownDecisions, membership, inquiries,
                this::handle);
        // a parked CAN_COMMIT / PRE_COMMIT kept its participant timeout in the branch; answered to the owner's link
        table.onParkedCommand((branch, command) -> workers.execute(() -> run(links.serving(branch.xid().gtrid()), branch.xid(), command, 0)));
    }

    private void decideAlone(Branch b, long token) {
        ownDecisions.decideAlone(b, token);
    }

    private void settledUnheld(TmXid xid) {
        sweep.settled(xid);
    }

    private static ScheduledExecutorService scheduler(String name) {
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        s.setRemoveOnCancelPolicy(true);
        return s;
    }

    public String agentId() {
        return settings.agentId();
    }

    /** This process's instance secret (see the field); for the TM calls that name this agent. Never log it. */
    public String instanceSecret() {
        return instanceSecret;
    }

    private static String drawInstanceSecret() {
        byte[] bytes = new byte[32];
        new java.security.SecureRandom().nextBytes(bytes);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Where TM calls go and which server new gtrids are minted for. */
    public ServerRoutes routes() {
        return links;
    }

    @Override
    public CompletableFuture<CommitAnswer> commit(CommitRequest request) {
        ServerLink link = links.serving(request.getGtrid());
        return link != null && link.takesCommitsOnStream() ? link.commitOnStream(request) : null;
    }

    @Override
    public void abandon(String gtrid) {
        for (ServerLink l : links.all()) {
            l.abandonCommit(gtrid);
        }
    }

    @Override
    public boolean lostBeforeSending(Throwable failure) {
        return failure instanceof StreamCommits.StreamLost lost && !lost.sent;
    }

    /** The deployment's cluster id, once a server has named it in its Welcome. */
    public java.util.Optional<ClusterId> clusterId() {
        return links.clusterId();
    }

    /** Whether at least one link is connected (welcomed). */
    public boolean isConnected() {
        return links.anyConnected();
    }

    /** What each link is doing, in configuration order: for the health indicator. */
    public List<LinkStatus> links() {
        List<LinkStatus> out = new ArrayList<>();
        for (ServerLink l : links.all()) {
            out.add(new LinkStatus(l.address(), l.nodeId(), l.epoch(), l.isConnected(), l.isConnected() ? null : l.lastError()));
        }
        return out;
    }

    /** One link's state; {@code nodeId} and {@code epoch} are 0 before a Welcome and on a store of one server. */
    public record LinkStatus(String address, int nodeId, long epoch, boolean connected, String lastError) {}

    /** Waits at most {@code timeoutMillis} until some link is connected. */
    public boolean awaitConnected(long timeoutMillis) throws InterruptedException {
        return links.awaitServing("", timeoutMillis);
    }

    /**
     * Waits until the link to the server that owns {@code gtrid} is open and welcomed, at most
     * {@code timeoutMillis}. The coordinator refuses to register a branch on an agent without an open
     * stream (it could never tell it to commit or roll back), so enlistment waits here first: a global
     * transaction right after start-up, or during a reconnect, is delayed instead of refused.
     */
    public boolean awaitConnected(String gtrid, long timeoutMillis) throws InterruptedException {
        return links.awaitServing(gtrid, timeoutMillis);
    }

    /** Why no link is connected, for the health indicator (null while one is). */
    public String lastError() {
        if (isConnected()) {
            return null;
        }
        List<String> why = new ArrayList<>();
        for (ServerLink l : links.all()) {
            why.add(l.address() + ": " + l.lastError());
        }
        return String.join("; ", why);
    }

    public void start() {
        for (CoordinatorChannel c : channels.configured()) {
            openLink(c);
        }
        resumer.start();
        scheduleSweep(settings.recoveryIntervalMillis());
        ticks.scheduleWithFixedDelay(membership::refresh, settings.membersRefreshMillis(), settings.membersRefreshMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void openLink(CoordinatorChannel channel) {
        ServerLink link = new ServerLink(settings.agentId(), instanceSecret, channel, reconnects, settings.backoffInitialMillis(),
                settings.backoffMaxMillis(), events);
        links.add(link);
        link.connect();
    }

    // ---- commands ----

    private void handle(ServerLink link, PhaseCommand c) {
        TmXid xid;
        try {
            xid = new TmXid(c.getGtrid(), c.getBqual());
        } catch (IllegalArgumentException e) {
            log.warn("Ignoring a phase command with a malformed xid: {}", e.getMessage());
            return;
        }
        BranchCommand.of(c.getAction()).ifPresentOrElse(command -> run(link, xid, command, c.getParticipantTimeoutMs()),
                () -> log.warn("Ignoring phase command {} for {}: unknown action", c.getAction(), xid));
    }

    // ---- the calling thread's own branches (one round trip) ----

    /**
     * Runs {@code command} on a branch of the calling thread's own global transaction, as a command
     * from the coordinator would run, without answering the coordinator (a vote rides on the commit
     * request instead; see {@link #acknowledge}).
     */
    public BranchAnswer runForCaller(Branch b, BranchCommand command) {
        return runForCaller(b, command, 0);
    }

    /**
     * The same for 3PC's CAN_COMMIT and PRE_COMMIT answered by the caller itself (CanCommitHeld): a YES
     * arms the branch's participant timer for {@code participantTimeoutMillis}, as the command would.
     */
    public BranchAnswer runForCaller(Branch b, BranchCommand command, long participantTimeoutMillis) {
        long start = System.nanoTime();
        BranchAnswer answer;
        try (Observed observed = listener.observe(command.name(), b.xid().gtrid())) {
            answer = commands.execute(b.xid(), command, participantTimeoutMillis);
        }
        listener.commandExecuted(command.name(), answer.name(), System.nanoTime() - start);
        return answer;
    }

    /**
     * The participant CAN_COMMIT timeout of the server that owns {@code gtrid}, as its Welcome named it;
     * 0 while it is not connected or when it takes no CanCommitHeld (the caller then takes the strict path).
     */
    public long participantCanCommitMillis(String gtrid) {
        ServerLink link = links.serving(gtrid);
        return link == null ? 0 : link.participantCanCommitMillis();
    }

    /**
     * Tells the owner of the branch's gtrid what {@link #runForCaller} did (a COMMIT or ROLLBACK done):
     * a DONE is batched ({@link AckBatcher}), anything else goes out at once.
     */
    public void acknowledge(Branch b, BranchCommand command, BranchAnswer answer) {
        if (answer != BranchAnswer.DONE) {
            AgentMessages.reply(links.serving(b.xid().gtrid()), b.xid(), command, answer, listener);
            return;
        }
        acks.add(AgentMessages.ack(b.xid(), command, AckResult.DONE));
    }

    /**
     * The caller could not learn the outcome of its commit request: ask about these prepared branches
     * now (as after a reconnect), see {@link Inquiries}.
     */
    public void inquireAbout(List<Branch> branches) {
        inquiries.inquireAbout(branches);
    }

    /** Runs one command and answers it on the link that serves its gtrid. Package-visible for tests. */
    void run(TmXid xid, BranchCommand command) {
        run(links.serving(xid.gtrid()), xid, command, 0);
    }

    /** Runs one command and answers it on {@code link} (the one it came on; null: not answered). */
    private void run(ServerLink link, TmXid xid, BranchCommand command, long participantTimeoutMillis) {
        try (XidMdc.Scope mdc = XidMdc.put(xid.gtrid())) {
            runAndReply(link, xid, command, participantTimeoutMillis);
        }
    }

    private void runAndReply(ServerLink link, TmXid xid, BranchCommand command, long participantTimeoutMillis) {
        long start = System.nanoTime();
        BranchAnswer answer;
        try (Observed observed = listener.observe(command.name(), xid.gtrid())) {
            answer = commands.execute(xid, command, participantTimeoutMillis);
        } catch (RuntimeException e) {
            log.error("{} of branch {} failed unexpectedly; the coordinator will resend it", command, xid, e);
            return;
        }
        listener.commandExecuted(command.name(), answer.name(), System.nanoTime() - start);
        if (log.isDebugEnabled()) {
            log.debug("{} of branch {}: {}", command, xid, answer);
        }
        AgentMessages.reply(link, xid, command, answer, listener);
    }

    private void scheduleSweep(long delayMillis) {
        try {
            recovery.schedule(this::runSweep, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // the agent is closing
        }
    }

    private void runSweep() {
        try {
            sweep.sweep();
        } catch (RuntimeException e) {
            log.warn("Agent {}: recovery sweep failed; trying again in {} ms", settings.agentId(), settings.recoveryIntervalMillis(), e);
        }
        if (!closed) {
            scheduleSweep(sweep.nextDelayMillis());
        }
    }

    /** Branches held here whose database state is in doubt (their XA call lost its answer): for metrics and health. */
    public int inDoubtCount() {
        return commands.inDoubt().count();
    }

    /** Age of the oldest of {@link #inDoubtCount()}, in milliseconds; 0 when there is none. */
    public long oldestInDoubtMillis() {
        return commands.inDoubt().oldestAgeMillis();
    }

    /** Participant timers still on the clock (armed, not yet fired or disarmed); for tests. */
    int pendingTimers() {
        return timers.pending();
    }

    /** Resume entries still waiting for a verdict; for tests. */
    int pendingResumes() {
        return resumer.pending();
    }

    @Override
    public void close() {
        acks.close(); // what is left goes out on the streams that are still open
        closed = true;
        membership.close(); // no new links from here on
        reconnects.shutdownNow();
        ticks.shutdownNow();
        recovery.shutdownNow();
        timers.close();
        for (ServerLink l : links.all()) {
            l.close();
        }
        links.changed();
        workers.shutdown();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
