package dev.xatm.client.agent;

import dev.xatm.client.context.Observed;
import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.client.coordinator.CoordinatorChannels;
import dev.xatm.client.coordinator.ServerRoutes;
import dev.xatm.client.coordinator.StreamCommitter;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.XidMdc;
import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AckBatch;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CommitAnswer;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.Member;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.Vote;
import dev.xatm.protocol.v1.Welcome;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
    /** How long the acks of the callers' own commits are collected before they go out in one message. */
    static final long ACK_BATCH_MILLIS = 5;
    static final int ACK_BATCH_MAX = 500;

    private final AgentSettings settings;
    private final CoordinatorChannels channels;
    private final LinkSet links = new LinkSet();
    private final LinkEvents events = new LinkEvents();
    private final BranchTable table;
    private final Supplier<List<EnlistedResource>> resources;
    private final Recoverer recoverer;
    private final AgentListener listener;
    private final ExecutorService workers;
    /** Reconnects of every link. */
    private final ScheduledExecutorService reconnects;
    /** Resume and Members calls: they block for up to the call timeout, so not on the reconnect thread. */
    private final ScheduledExecutorService ticks;
    private final ParticipantTimers timers;
    private final PendingReports reports;
    private final Resumer resumer;
    /** The in-doubt retries and the recovery sweep: blocking JDBC work, apart from the stream's threads. */
    private final ScheduledExecutorService recovery;
    private final InDoubtBranches inDoubt;
    private final RecoverySweep sweep;
    /** Delay before an own decision that could not reach its database is tried again. */
    private final long decisionRetryMillis;
    private final Queue<Ack> pendingAcks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean ackFlushQueued = new AtomicBoolean();
    private final ScheduledExecutorService ackTimer;
    private volatile boolean closed;
    /**
     * Drawn once per agent process and sent in every Hello, RegisterBranch and commit with votes: it
     * proves to the servers that a stream or call naming this agent id comes from this process, so no
     * other holder of the client token can replace our stream or vote in our name while it is alive, and
     * our own reconnect may still replace a half-dead stream of ours at once. Never logged.
     */
    private final String instanceSecret = drawInstanceSecret();
    /** Gtrids the servers said are another deployment's, so the warning is said once each. */
    private final java.util.Set<String> notMineReported = java.util.concurrent.ConcurrentHashMap.newKeySet();

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
        this.resources = resources;
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
        this.ackTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tm-agent-acks");
            t.setDaemon(true);
            return t;
        });
        this.timers = new ParticipantTimers(this::decideAlone);
        this.reports = new PendingReports(10_000);
        this.resumer = new Resumer(settings.agentId(), links, ticks, workers, (xid, command) -> execute(xid, command, 0), listener,
                settings.callTimeoutMillis(), settings.resumeIntervalMillis());
        this.decisionRetryMillis = Math.max(100, settings.backoffInitialMillis());
        this.recovery = scheduler("tm-agent-recovery");
        this.inDoubt = new InDoubtBranches(this::settleByXid, recovery, settings.backoffInitialMillis(), settings.backoffMaxMillis(),
                System::nanoTime);
        this.sweep = new RecoverySweep(resources, recoverer, this::drives, this::askAbout,
                settings.recoveryIntervalMillis(), settings.recoverySafetyMillis(), System::nanoTime, listener);
        // a parked CAN_COMMIT / PRE_COMMIT kept its participant timeout in the branch; answered to the owner's link
        table.onParkedCommand((branch, command) -> workers.execute(() -> run(links.serving(branch.xid().gtrid()), branch.xid(), command, 0)));
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
        ticks.scheduleWithFixedDelay(this::refreshMembers, settings.membersRefreshMillis(), settings.membersRefreshMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void openLink(CoordinatorChannel channel) {
        ServerLink link = new ServerLink(settings.agentId(), instanceSecret, channel, reconnects, settings.backoffInitialMillis(),
                settings.backoffMaxMillis(), events);
        links.add(link);
        link.connect();
    }

    /** What the links report; serialised where two links could race (admission of a Welcome). */
    private final class LinkEvents implements ServerLink.Events {
        @Override
        public synchronized boolean admit(ServerLink link, Welcome w) {
            if (w.getNodeId() > 0 && links.servedByAnother(link, w.getNodeId())) {
                log.info("Agent {}: {} welcomed it as node {}, which another link already serves; closing this duplicate link",
                        settings.agentId(), link.description(), w.getNodeId());
                links.remove(link);
                return false;
            }
            String wrongCluster = links.admitCluster(link, w.getClusterId());
            if (wrongCluster != null) {
                log.error("Agent {}: not using {}: {}", settings.agentId(), link.description(), wrongCluster);
                links.remove(link);
                return false;
            }
            return true;
        }

        @Override
        public void welcomed(ServerLink link, Welcome w) {
            Agent.this.welcomed(link, w);
        }

        @Override
        public void command(ServerLink link, PhaseCommand c) {
            workers.execute(() -> {
                // the worker's log lines carry the gtrid the command is for (see XidMdc)
                try (XidMdc.Scope mdc = XidMdc.put(c.getGtrid())) {
                    handle(link, c);
                }
            });
        }

        @Override
        public void refused(ServerLink link, String code, String message) {
            Agent.this.refused(link, code, message);
        }

        @Override
        public void notMine(ServerLink link, String gtrid, String bqual, String message) {
            Agent.this.notMine(link, gtrid, bqual, message);
        }

        @Override
        public void lost(ServerLink link, String why, boolean wasConnected) {
            Agent.this.lost(link, why, wasConnected);
        }
    }

    /**
     * The server refused to answer for a branch whose gtrid names another deployment's cluster: it never
     * presumes such a branch aborted, and neither do we. Recovery does not ask about those in the first
     * place, so this follows a misconfiguration (or a branch held from before the cluster id changed);
     * said once per gtrid, and the branch is left as it is.
     */
    private void notMine(ServerLink link, String gtrid, String bqual, String message) {
        if (notMineReported.add(gtrid) && notMineReported.size() < 10_000) {
            log.warn("Agent {}: {} will not answer for prepared branch {}/{}, which belongs to xatm cluster {}: left alone. ({})",
                    settings.agentId(), link.description(), gtrid, bqual,
                    ClusterId.of(gtrid).map(ClusterId::value).orElse("?"), message);
        }
    }

    private void welcomed(ServerLink link, Welcome w) {
        links.changed();
        log.info("Agent {} connected to {} (server id {}{})", settings.agentId(), link.description(), w.getServerId(),
                w.getNodeId() > 0 ? ", node " + w.getNodeId() + ", epoch " + w.getEpoch() : "");
        listener.connected(w.getServerId());
        if (w.getNodeId() > 0) {
            resumer.forget(w.getNodeId()); // its Inquiry below takes over
        }
        sendPendingReports();
        adoptMembers(w.getMembersList());
        workers.execute(() -> announcePrepared(link));
    }

    private void lost(ServerLink link, String why, boolean wasConnected) {
        links.changed();
        if (!wasConnected) {
            return;
        }
        log.warn("Agent {} lost its stream to {}: {}; reconnecting", settings.agentId(), link, why);
        ServerLink primary = links.primary(); // still counting this link: was it the primary one?
        // Taken now, so branches that join on the next stream are not among them. Only registered ones:
        // the coordinator does not know a branch that rides on its caller's commit request, so it aborts
        // nothing for it, and that transaction may still commit once the stream is back.
        List<Branch> orphans = new ArrayList<>();
        for (Branch b : table.unprepared()) {
            if (b.isRegistered() && LinkSet.serves(link, primary, b.xid().gtrid())) {
                orphans.add(b);
            }
        }
        if (!orphans.isEmpty()) {
            workers.execute(() -> abandon(orphans, why));
        }
        // The prepared ones wait for their owner's decision; another server may know it already (a decision
        // row, or the owner fenced by a takeover). Untagged ones have no other server to ask: their Inquiry
        // follows the next Welcome.
        int node = link.nodeId();
        if (node > 0) {
            int n = 0;
            for (Branch b : table.prepared()) {
                if (b.mayInquire() && GtridOwner.of(b.xid().gtrid()).map(o -> o.nodeId() == node).orElse(false)) {
                    resumer.add(b.xid(), b.resource().resourceId(), node);
                    n++;
                }
            }
            if (n > 0) {
                log.info("Agent {}: {} prepared branch(es) owned by node {} are asked about on the other servers until it is back",
                        settings.agentId(), n, node);
            }
        }
        listener.disconnected(why);
    }

    /**
     * The coordinator aborts every unfinished transaction that has a branch not yet prepared on an
     * agent whose stream broke (that branch "died with the agent's session"), and it does not wait
     * for, or send anything to, a disconnected agent about it; a coordinator that crashed and
     * restarted does not even know those transactions any more (presumed abort). Prepared branches
     * are settled by the Inquiry on reconnect (or by Resume), but an unprepared one would hold its
     * connection and its row locks forever. So the agent makes the coordinator's assumption true: it
     * rolls them back (a branch still in use when the business code lets go, and its next statement
     * fails). Only the branches of the server whose stream broke: the others' servers still count on
     * them.
     */
    private void abandon(List<Branch> orphans, String why) {
        int n = 0;
        for (Branch b : orphans) {
            if (b.abandonIfUnprepared("the stream to the coordinator broke (" + why + "), which aborts its global transaction")) {
                table.settled(b);
                n++;
            }
        }
        if (n > 0) {
            log.warn("Agent {} rolled back {} unprepared branch(es) after losing its stream: their global transactions are aborted",
                    settings.agentId(), n);
        }
    }

    /**
     * The coordinator refused one of our messages. NOT_FOUND answers a vote for a transaction (or
     * branch) it does not know: it lost the transaction in a restart before deciding, so it is
     * presumed aborted (design notes, Changes). A vote carries no agent id, so the coordinator cannot
     * send the ROLLBACK itself, and the error does not name the branch; asking that server about each
     * branch we hold prepared there makes it answer ROLLBACK for the unknown ones (and COMMIT or
     * nothing for the others, which is harmless: commands are idempotent).
     */
    void refused(ServerLink link, String code, String message) {
        if (!"NOT_FOUND".equals(code)) {
            log.warn("{} refused a message of agent {}: {} {}", link, settings.agentId(), code, message);
            return;
        }
        log.info("{} does not know a transaction agent {} voted on ({}); asking about our prepared branches (presumed abort)",
                link, settings.agentId(), message);
        if (link.reinquiryQueued.compareAndSet(false, true)) {
            workers.execute(() -> {
                link.reinquiryQueued.set(false);
                ServerLink primary = links.primary();
                for (Branch b : table.prepared()) {
                    if (b.mayInquire() && LinkSet.serves(link, primary, b.xid().gtrid())) {
                        link.inquire(b.xid(), b.resource().resourceId());
                    }
                }
            });
        }
    }

    /**
     * After a Welcome of {@code link}: an Inquiry for every prepared branch held in memory that it
     * serves, and for every one of ours XA RECOVER finds (to whichever server owns it).
     */
    private void announcePrepared(ServerLink link) {
        ServerLink primary = links.primary();
        for (Branch b : table.prepared()) {
            if (b.mayInquire() && LinkSet.serves(link, primary, b.xid().gtrid())) {
                link.inquire(b.xid(), b.resource().resourceId());
            }
        }
        for (EnlistedResource r : resources.get()) {
            if (!r.supported()) {
                continue;
            }
            try {
                for (TmXid xid : recoverer.scan(r)) {
                    if (table.get(xid) != null) {
                        continue;
                    }
                    boolean untagged = GtridOwner.of(xid.gtrid()).isEmpty();
                    if (untagged && link != primary) {
                        continue; // the primary's Welcome asks about it
                    }
                    log.info("XA RECOVER found prepared branch {} on {}; asking the coordinator for its outcome", xid, r);
                    askAbout(xid, r.resourceId());
                }
            } catch (Exception e) {
                log.warn("XA RECOVER on {} failed: {}; prepared branches there are found on the next reconnect", r, e.toString());
            }
        }
    }

    /**
     * Asks for the outcome of a prepared branch: an Inquiry on the link that serves its gtrid; when the
     * owner's link is down, Resume on another server (soon, and again until a verdict). An untagged one
     * without a primary link waits for the next Welcome.
     */
    private void askAbout(TmXid xid, String resourceId) {
        ServerLink l = links.serving(xid.gtrid());
        if (l != null && l.inquire(xid, resourceId)) {
            return;
        }
        GtridOwner.of(xid.gtrid()).ifPresent(owner -> resumer.add(xid, resourceId, owner.nodeId()));
    }

    // ---- membership ----

    private void refreshMembers() {
        if (closed || !channels.canOpen() || !links.clustered()) {
            return;
        }
        ServerLink via = links.nextToAsk(); // in turn: a frozen server must not keep the list from changing
        if (via == null) {
            return;
        }
        try {
            List<Member> members = via.members(Math.min(settings.callTimeoutMillis(), Math.max(1_000, settings.membersRefreshMillis())))
                    .getMembersList();
            via.membersUnanswered = false;
            adoptMembers(members);
        } catch (StatusRuntimeException e) {
            via.membersUnanswered = true;
            log.debug("Members on {} failed: {}", via, e.getStatus());
        } catch (RuntimeException e) {
            log.warn("Agent {}: taking in the members {} announced failed", settings.agentId(), via, e);
        }
    }

    /** A link for every announced server that no link was welcomed as, nor connects to. */
    private synchronized void adoptMembers(List<Member> members) {
        links.leaseHolders(members);
        dropLinksWithoutLease(members);
        if (closed || !channels.canOpen()) {
            return;
        }
        for (Member m : members) {
            if (m.getNodeId() <= 0 || m.getAddress().isBlank() || links.knows(m.getNodeId(), m.getAddress())) {
                continue;
            }
            log.info("Agent {}: the cluster announces tm-server node {} at {}; opening a link to it", settings.agentId(),
                    m.getNodeId(), m.getAddress());
            try {
                openLink(channels.open(m.getAddress()));
            } catch (RuntimeException e) {
                log.warn("Agent {}: cannot open a link to {} (node {}): {}", settings.agentId(), m.getAddress(), m.getNodeId(),
                        e.toString());
            }
        }
    }

    /**
     * A connected server that two member lists in a row leave out holds no lease: it is frozen (a GC
     * pause, SIGSTOP, a stalled VM), cut off from its store, or already taken over, and it will never
     * decide anything again in this incarnation. Its stream may look up for another 10 s or more
     * (gRPC's keep-alive), and every call waiting on it would wait that long. Dropping the connection
     * ends those calls now; the agent then treats the link as lost (its unprepared branches roll back,
     * its prepared ones are resumed through the others, whose answers come from the shared store).
     * Two lists, not one, because a server's list may lag a restart by a moment; and only lists that
     * name at least one server we are connected to.
     */
    private void dropLinksWithoutLease(List<Member> members) {
        List<ServerLink> all = links.all();
        if (members.isEmpty() || all.stream().noneMatch(l -> l.isConnected() && l.nodeId() > 0 && links.holdsLease(l))) {
            return; // a list naming none of the servers we reach is stale or wrong: it drops nobody
        }
        for (ServerLink l : all) {
            if (!l.isConnected() || l.nodeId() <= 0 || !links.leaseGone(l)) {
                l.leaseMisses = 0;
            } else if (++l.leaseMisses >= 2) {
                l.leaseMisses = 0;
                log.warn("Agent {}: tm-server node {} (epoch {}) at {} holds no lease any more (frozen, cut off from its store, or"
                                + " taken over); dropping its connection and the calls waiting on it, whose outcome the other servers"
                                + " answer from the store", settings.agentId(), l.nodeId(), l.epoch(), l.address());
                l.channel().dropCallsAndReconnect();
            }
        }
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
        Branch.Command command = switch (c.getAction()) {
            case PREPARE -> Branch.Command.PREPARE;
            case COMMIT -> Branch.Command.COMMIT;
            case ROLLBACK -> Branch.Command.ROLLBACK;
            case COMMIT_ONE_PHASE -> Branch.Command.COMMIT_ONE_PHASE;
            case CAN_COMMIT -> Branch.Command.CAN_COMMIT;
            case PRE_COMMIT -> Branch.Command.PRE_COMMIT;
            default -> null;
        };
        if (command == null) {
            log.warn("Ignoring phase command {} for {}: unknown action", c.getAction(), xid);
            return;
        }
        run(link, xid, command, c.getParticipantTimeoutMs());
    }

    // ---- the calling thread's own branches (one round trip) ----

    /**
     * Runs {@code command} on a branch of the calling thread's own global transaction, as a command
     * from the coordinator would run, without answering the coordinator (a vote rides on the commit
     * request instead; see {@link #acknowledge}).
     */
    public Branch.Answer runForCaller(Branch b, Branch.Command command) {
        return runForCaller(b, command, 0);
    }

    /**
     * The same for 3PC's CAN_COMMIT and PRE_COMMIT answered by the caller itself (CanCommitHeld): a YES
     * arms the branch's participant timer for {@code participantTimeoutMillis}, as the command would.
     */
    public Branch.Answer runForCaller(Branch b, Branch.Command command, long participantTimeoutMillis) {
        long start = System.nanoTime();
        Branch.Answer answer;
        try (Observed observed = listener.observe(command.name(), b.xid().gtrid())) {
            answer = execute(b.xid(), command, participantTimeoutMillis);
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
     * Tells the owner of the branch's gtrid what {@link #runForCaller} did (a COMMIT or ROLLBACK done).
     * Collected for {@link #ACK_BATCH_MILLIS} and sent as one message per server: nobody waits for
     * these acks (the coordinator only stops resending), and one message for many transactions costs
     * the stream, both processes and the lock on the stream far less than one each.
     */
    public void acknowledge(Branch b, Branch.Command command, Branch.Answer answer) {
        if (answer != Branch.Answer.DONE) {
            reply(links.serving(b.xid().gtrid()), b.xid(), command, answer);
            return;
        }
        pendingAcks.add(Ack.newBuilder().setGtrid(b.xid().gtrid()).setBqual(b.xid().bqual()).setAction(action(command))
                .setResult(AckResult.DONE).build());
        if (ackFlushQueued.compareAndSet(false, true)) {
            try {
                ackTimer.schedule(this::flushAcks, ACK_BATCH_MILLIS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                ackFlushQueued.set(false); // closed: close() flushes what is left
            }
        }
    }

    /**
     * Sends the collected acks to the servers that own their gtrids, at most {@link #ACK_BATCH_MAX} per
     * message. One whose owner is not connected is dropped: a lost ack only means a resent COMMIT.
     */
    private void flushAcks() {
        ackFlushQueued.set(false);
        Map<ServerLink, AckBatch.Builder> batches = new LinkedHashMap<>();
        for (Ack a = pendingAcks.poll(); a != null; a = pendingAcks.poll()) {
            ServerLink link = links.serving(a.getGtrid());
            if (link == null) {
                continue;
            }
            AckBatch.Builder batch = batches.computeIfAbsent(link, l -> AckBatch.newBuilder());
            batch.addAcks(a);
            if (batch.getAcksCount() == ACK_BATCH_MAX) {
                link.send(AgentMessage.newBuilder().setAcks(batch).build());
                batches.remove(link);
            }
        }
        batches.forEach((link, batch) -> link.send(AgentMessage.newBuilder().setAcks(batch).build()));
    }

    /**
     * The caller could not learn the outcome of its commit request: ask about these prepared branches
     * now (as after a reconnect): the owner's answer, now or once it decided, finishes them; while the
     * owner is unreachable, Resume on another server does.
     */
    public void inquireAbout(List<Branch> branches) {
        workers.execute(() -> {
            for (Branch b : branches) {
                if (b.mayInquire()) {
                    try (XidMdc.Scope mdc = XidMdc.put(b.xid().gtrid())) {
                        askAbout(b.xid(), b.resource().resourceId());
                    }
                }
            }
        });
    }

    /** Runs one command and answers it on the link that serves its gtrid. Package-visible for tests. */
    void run(TmXid xid, Branch.Command command) {
        run(links.serving(xid.gtrid()), xid, command, 0);
    }

    /** Runs one command and answers it on {@code link} (the one it came on; null: not answered). */
    private void run(ServerLink link, TmXid xid, Branch.Command command, long participantTimeoutMillis) {
        try (XidMdc.Scope mdc = XidMdc.put(xid.gtrid())) {
            runAndReply(link, xid, command, participantTimeoutMillis);
        }
    }

    private void runAndReply(ServerLink link, TmXid xid, Branch.Command command, long participantTimeoutMillis) {
        long start = System.nanoTime();
        Branch.Answer answer;
        try (Observed observed = listener.observe(command.name(), xid.gtrid())) {
            answer = execute(xid, command, participantTimeoutMillis);
        } catch (RuntimeException e) {
            log.error("{} of branch {} failed unexpectedly; the coordinator will resend it", command, xid, e);
            return;
        }
        listener.commandExecuted(command.name(), answer.name(), System.nanoTime() - start);
        if (log.isDebugEnabled()) {
            log.debug("{} of branch {}: {}", command, xid, answer);
        }
        reply(link, xid, command, answer);
    }

    private Branch.Answer execute(TmXid xid, Branch.Command command, long participantTimeoutMillis) {
        try (XidMdc.Scope mdc = XidMdc.put(xid.gtrid())) {
            return executeHeldOrNot(xid, command, participantTimeoutMillis);
        }
    }

    private Branch.Answer executeHeldOrNot(TmXid xid, Branch.Command command, long participantTimeoutMillis) {
        Branch b = table.get(xid);
        if (b == null) {
            return switch (command) {
                // not ours (any more): its work died with its session
                case PREPARE, CAN_COMMIT, PRE_COMMIT -> Branch.Answer.VOTE_NO;
                case COMMIT_ONE_PHASE -> {
                    log.warn("COMMIT_ONE_PHASE for {} which this agent does not hold; answering rolled back", xid);
                    yield Branch.Answer.ROLLED_BACK_INSTEAD;
                }
                case COMMIT, ROLLBACK -> finishUnheld(xid, command == Branch.Command.COMMIT);
            };
        }
        Branch.Answer answer;
        synchronized (b) {
            answer = executeLocked(b, command, participantTimeoutMillis);
            timers.afterCommand(b, command, answer);
        }
        watchIfInDoubt(b, command, answer);
        if (b.heuristic()) {
            listener.heuristic(xid.toString());
        }
        table.settled(b);
        return answer;
    }

    /** One command on a branch whose lock the caller holds; a prepared branch whose connection broke is finished by xid. */
    private Branch.Answer executeLocked(Branch b, Branch.Command command, long participantTimeoutMillis) {
        if ((b.detached() && (command == Branch.Command.COMMIT || command == Branch.Command.ROLLBACK))
                || (b.inDoubt() && command == Branch.Command.ROLLBACK)) {
            boolean commit = command == Branch.Command.COMMIT;
            Branch.Answer answer = recoverer.finish(b.xid(), commit, b.resource());
            if (answer.endsPhaseTwo()) {
                b.finishedByXid(commit);
                listener.settledByRecovery("in_doubt");
            }
            return answer;
        }
        return b.execute(command, participantTimeoutMillis);
    }

    /**
     * Whether this agent still drives {@code xid} (a live branch, or one in doubt it retries). A branch
     * it remembers as finished does not count: listed by XA RECOVER, it is one we wrongly took for done,
     * and the sweep must not skip it.
     */
    private boolean drives(TmXid xid) {
        Branch b = table.get(xid);
        return b != null && !b.isFinished();
    }

    /** Phase 2 by xid of a branch this agent does not hold (found by XA RECOVER, or forgotten). */
    private Branch.Answer finishUnheld(TmXid xid, boolean commit) {
        Branch.Answer answer = recoverer.finish(xid, commit, null);
        if (answer.endsPhaseTwo()) {
            sweep.settled(xid);
        }
        return answer;
    }

    /**
     * A branch whose last XA call lost its answer is retried by xid until the database confirms: a
     * PREPARE that did not answer is rolled back (it voted NO); a COMMIT or ROLLBACK that did not is
     * the coordinator's decision, retried here rather than only on the coordinator's next resend,
     * which may be long (or, for a transaction it never heard of, never) coming.
     */
    private void watchIfInDoubt(Branch b, Branch.Command command, Branch.Answer answer) {
        if (b.inDoubt()) {
            inDoubt.add(b, false);
        } else if (answer == Branch.Answer.NONE && (command == Branch.Command.COMMIT || command == Branch.Command.ROLLBACK)
                && b.detached()) {
            if (command == Branch.Command.COMMIT) {
                recoverer.commitUnanswered(b.xid()); // so a "no such branch" later reads as this commit having run
            }
            inDoubt.add(b, command == Branch.Command.COMMIT);
        }
    }

    /** One attempt of {@link InDoubtBranches}: phase 2 by xid under the branch's lock; true once it is done. */
    private boolean settleByXid(Branch b, boolean commit) {
        Branch.Command command = commit ? Branch.Command.COMMIT : Branch.Command.ROLLBACK;
        Branch.Answer answer;
        synchronized (b) {
            if (!b.inDoubt() && !b.detached()) {
                return true; // the caller's rollback or the coordinator's resend finished it meanwhile
            }
            answer = executeLocked(b, command, 0);
            if (!answer.endsPhaseTwo()) {
                return false;
            }
        }
        table.settled(b);
        if (commit || answer.isHeuristic()) {
            acknowledge(b, command, answer); // the coordinator knows the transaction and waits for this
        }
        return true;
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
        return inDoubt.count();
    }

    /** Age of the oldest of {@link #inDoubtCount()}, in milliseconds; 0 when there is none. */
    public long oldestInDoubtMillis() {
        return inDoubt.oldestAgeMillis();
    }

    /**
     * A participant timer ran out: the branch answered YES to CAN_COMMIT and no PRE_COMMIT
     * came, so it rolls back; or it acknowledged PRE_COMMIT and no decision came, so it commits, on
     * the connection that prepared it (MariaDB binds a prepared branch to its session). A decision
     * that cannot reach the database now is tried again shortly; a COMMIT or ROLLBACK arriving
     * meanwhile disarms it.
     */
    private void decideAlone(Branch b, long token) {
        Branch.Command decision;
        try {
            synchronized (b) {
                if (!b.timerDue(token)) {
                    return; // the command it waited for was handled first
                }
                decision = switch (b.state()) {
                    case WILLING -> Branch.Command.ROLLBACK;
                    case PREPARED -> Branch.Command.COMMIT;
                    default -> null;
                };
                if (decision == null) {
                    return;
                }
                Branch.Answer answer = executeLocked(b, decision, 0);
                if (!answer.endsPhaseTwo()) {
                    log.warn("Branch {} timed out waiting for the coordinator, but its own {} did not take effect yet; trying again in {} ms",
                            b, decision, decisionRetryMillis);
                    timers.arm(b, decisionRetryMillis);
                    return;
                }
                b.decidedOnItsOwn(decision);
            }
        } catch (RuntimeException e) {
            log.error("Own decision for branch {} failed unexpectedly; trying again in {} ms", b, decisionRetryMillis, e);
            synchronized (b) {
                timers.arm(b, decisionRetryMillis);
            }
            return;
        }
        if (b.heuristic()) {
            listener.heuristic(b.xid().toString());
        }
        table.settled(b);
        log.warn("Branch {} {} ON ITS OWN: no {} from {} within its participant timeout ({} ms, three-phase commit); reported to the"
                        + " coordinator {}", b, decision == Branch.Command.COMMIT ? "COMMITTED" : "ROLLED BACK",
                decision == Branch.Command.COMMIT ? "COMMIT or ROLLBACK" : "PRE_COMMIT or ROLLBACK", links.describeRoute(b.xid().gtrid()),
                b.participantTimeoutMillis(), links.serving(b.xid().gtrid()) != null ? "now" : "when its stream is back");
        listener.decidedOnItsOwn(decision == Branch.Command.COMMIT ? "commit" : "rollback");
        // queued first, then sent if connected: a Welcome racing with this sends it either way
        reports.add(b.xid(), decision);
        if (links.serving(b.xid().gtrid()) != null) {
            sendPendingReports();
        }
    }

    /** Participant timers still on the clock (armed, not yet fired or disarmed); for tests. */
    int pendingTimers() {
        return timers.pending();
    }

    /** Resume entries still waiting for a verdict; for tests. */
    int pendingResumes() {
        return resumer.pending();
    }

    /** Sends the own-decision reports whose owner's link is connected; the others wait for its Welcome. */
    private void sendPendingReports() {
        reports.drainIf(xid -> links.serving(xid.gtrid()) != null).forEach((xid, decision) -> reply(links.serving(xid.gtrid()),
                xid, decision, decision == Branch.Command.COMMIT ? Branch.Answer.DECIDED_COMMIT : Branch.Answer.DECIDED_ROLLBACK));
    }

    private void reply(ServerLink link, TmXid xid, Branch.Command command, Branch.Answer answer) {
        AgentMessage m = switch (answer) {
            case VOTE_YES, VOTE_NO, VOTE_READ_ONLY -> AgentMessage.newBuilder().setVote(Vote.newBuilder()
                    .setGtrid(xid.gtrid()).setBqual(xid.bqual()).setVote(vote(answer)).setAnswering(answering(command))).build();
            case DECIDED_COMMIT, DECIDED_ROLLBACK -> AgentMessage.newBuilder().setAck(ownDecision(xid, command, answer)).build();
            case DONE, ROLLED_BACK_INSTEAD -> AgentMessage.newBuilder().setAck(Ack.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual())
                    .setAction(action(command))
                    .setResult(answer == Branch.Answer.DONE ? AckResult.DONE : AckResult.ROLLED_BACK_INSTEAD)).build();
            case HEURISTIC_COMMIT, HEURISTIC_ROLLBACK, HEURISTIC_MIXED, HEURISTIC_HAZARD -> AgentMessage.newBuilder()
                    .setAck(Ack.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual()).setAction(action(command))
                            .setResult(heuristicResult(answer))).build();
            case NONE -> null;
        };
        if (m != null && link != null) {
            link.send(m); // not connected: the coordinator resends what it still needs after the reconnect
        }
    }

    private static AckResult heuristicResult(Branch.Answer answer) {
        return switch (answer) {
            case HEURISTIC_COMMIT -> AckResult.HEURISTIC_COMMIT;
            case HEURISTIC_ROLLBACK -> AckResult.HEURISTIC_ROLLBACK;
            case HEURISTIC_MIXED -> AckResult.HEURISTIC_MIXED;
            case HEURISTIC_HAZARD -> AckResult.HEURISTIC_HAZ;
            default -> throw new IllegalArgumentException("not a heuristic answer: " + answer);
        };
    }

    /**
     * The report of a decision the participant took on its own, in answer to {@code command}: that
     * decision as an autonomous Ack, or, when the command asks for the opposite (ROLLBACK of a branch
     * it committed), the command's Ack with the heuristic outcome the coordinator must record.
     */
    private Ack ownDecision(TmXid xid, Branch.Command command, Branch.Answer answer) {
        boolean committed = answer == Branch.Answer.DECIDED_COMMIT;
        Ack.Builder ack = Ack.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual()).setAutonomous(true);
        boolean opposite = committed ? command == Branch.Command.ROLLBACK
                : command == Branch.Command.COMMIT || command == Branch.Command.COMMIT_ONE_PHASE;
        if (opposite) {
            listener.heuristic(xid.toString());
            return ack.setAction(action(command)).setResult(committed ? AckResult.HEURISTIC_COMMIT : AckResult.HEURISTIC_ROLLBACK).build();
        }
        return ack.setAction(committed ? PhaseAction.COMMIT : PhaseAction.ROLLBACK).setResult(AckResult.DONE).build();
    }

    /** What a vote answers: 2PC's PREPARE stays unspecified on the wire (the server reads that as PREPARE). */
    private static PhaseAction answering(Branch.Command c) {
        return switch (c) {
            case CAN_COMMIT -> PhaseAction.CAN_COMMIT;
            case PRE_COMMIT -> PhaseAction.PRE_COMMIT;
            default -> PhaseAction.PHASE_ACTION_UNSPECIFIED;
        };
    }

    private static BranchVote vote(Branch.Answer a) {
        return switch (a) {
            case VOTE_YES -> BranchVote.YES;
            case VOTE_READ_ONLY -> BranchVote.READ_ONLY;
            default -> BranchVote.NO;
        };
    }

    private static PhaseAction action(Branch.Command c) {
        return switch (c) {
            case PREPARE -> PhaseAction.PREPARE;
            case COMMIT -> PhaseAction.COMMIT;
            case ROLLBACK -> PhaseAction.ROLLBACK;
            case COMMIT_ONE_PHASE -> PhaseAction.COMMIT_ONE_PHASE;
            case CAN_COMMIT -> PhaseAction.CAN_COMMIT;
            case PRE_COMMIT -> PhaseAction.PRE_COMMIT;
        };
    }


    @Override
    public void close() {
        ackTimer.shutdownNow();
        flushAcks(); // on the streams that are still open
        synchronized (this) {
            closed = true; // no new links from here on
        }
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
