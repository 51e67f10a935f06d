package dev.xatm.client.agent;

import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.XidMdc;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.Welcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.function.BiConsumer;

/**
 * The agent's stream driver: what its links report (a Welcome to admit and act on, a phase command, a
 * refusal, a lost stream) and what the agent does about it. Commands go to the bounded work pool;
 * everything that blocks (XA RECOVER, re-inquiries, abandoning branches) runs there too, never on a
 * stream's thread.
 *
 * <p>Thread-safe; {@link #admit} is serialised, because two links could race to be welcomed as one node.
 */
final class LinkEvents implements ServerLink.Events {
    private static final Logger log = LoggerFactory.getLogger(LinkEvents.class);

    private final AgentSettings settings;
    private final LinkSet links;
    private final BranchTable table;
    private final ExecutorService workers;
    private final AgentListener listener;
    private final Resumer resumer;
    private final OwnDecisions ownDecisions;
    private final Membership membership;
    private final Inquiries inquiries;
    /** Runs one phase command that came on a link and answers it there. */
    private final BiConsumer<ServerLink, PhaseCommand> commands;
    /** Gtrids the servers said are another deployment's, so the warning is said once each. */
    private final Set<String> notMineReported = ConcurrentHashMap.newKeySet();

    LinkEvents(AgentSettings settings, LinkSet links, BranchTable table, ExecutorService workers, AgentListener listener,
               Resumer resumer, OwnDecisions ownDecisions, Membership membership, Inquiries inquiries,
               BiConsumer<ServerLink, PhaseCommand> commands) {
        this.settings = settings;
        this.links = links;
        this.table = table;
        this.workers = workers;
        this.listener = listener;
        this.resumer = resumer;
        this.ownDecisions = ownDecisions;
        this.membership = membership;
        this.inquiries = inquiries;
        this.commands = commands;
    }

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
    public void command(ServerLink link, PhaseCommand c) {
        workers.execute(() -> {
            // the worker's log lines carry the gtrid the command is for (see XidMdc)
            try (XidMdc.Scope mdc = XidMdc.put(c.getGtrid())) {
                commands.accept(link, c);
            }
        });
    }

    /**
     * The server refused to answer for a branch whose gtrid names another deployment's cluster: it never
     * presumes such a branch aborted, and neither do we. Recovery does not ask about those in the first
     * place, so this follows a misconfiguration (or a branch held from before the cluster id changed);
     * said once per gtrid, and the branch is left as it is.
     */
    @Override
    public void notMine(ServerLink link, String gtrid, String bqual, String message) {
        if (notMineReported.add(gtrid) && notMineReported.size() < 10_000) {
            log.warn("Agent {}: {} will not answer for prepared branch {}/{}, which belongs to xatm cluster {}: left alone. ({})",
                    settings.agentId(), link.description(), gtrid, bqual,
                    ClusterId.of(gtrid).map(ClusterId::value).orElse("?"), message);
        }
    }

    @Override
    public void welcomed(ServerLink link, Welcome w) {
        links.changed();
        log.info("Agent {} connected to {} (server id {}{})", settings.agentId(), link.description(), w.getServerId(),
                w.getNodeId() > 0 ? ", node " + w.getNodeId() + ", epoch " + w.getEpoch() : "");
        listener.connected(w.getServerId());
        if (w.getNodeId() > 0) {
            resumer.forget(w.getNodeId()); // its Inquiry below takes over
        }
        ownDecisions.sendPending();
        membership.adopt(w.getMembersList());
        workers.execute(() -> inquiries.announcePrepared(link));
    }

    @Override
    public void lost(ServerLink link, String why, boolean wasConnected) {
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
    @Override
    public void refused(ServerLink link, String code, String message) {
        if (!"NOT_FOUND".equals(code)) {
            log.warn("{} refused a message of agent {}: {} {}", link, settings.agentId(), code, message);
            return;
        }
        log.info("{} does not know a transaction agent {} voted on ({}); asking about our prepared branches (presumed abort)",
                link, settings.agentId(), message);
        inquiries.reinquire(link);
    }
}
