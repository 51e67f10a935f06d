package dev.xatm.client.agent;

import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.client.coordinator.CoordinatorChannels;
import dev.xatm.protocol.v1.Member;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Consumer;

/**
 * The agent's view of the cluster's members: the servers a Welcome or a periodic {@code Members} call
 * announces get a link of their own, unless a link was welcomed as that node or connects to that
 * address already; a connected server that two member lists in a row leave out loses its connection.
 *
 * <p>Thread-safe: {@link #adopt} and {@link #close} are serialised, so no link is opened once closed.
 * {@link #refresh} runs on the agent's cluster thread (it blocks for up to the call timeout).
 */
final class Membership {
    private static final Logger log = LoggerFactory.getLogger(Membership.class);

    private final AgentSettings settings;
    private final CoordinatorChannels channels;
    private final LinkSet links;
    private final Consumer<CoordinatorChannel> openLink;
    private boolean closed;

    Membership(AgentSettings settings, CoordinatorChannels channels, LinkSet links, Consumer<CoordinatorChannel> openLink) {
        this.settings = settings;
        this.channels = channels;
        this.links = links;
        this.openLink = openLink;
    }

    /** Asks one connected server, in turn, for the members and adopts them. */
    void refresh() {
        if (isClosed() || !channels.canOpen() || !links.clustered()) {
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
            adopt(members);
        } catch (StatusRuntimeException e) {
            via.membersUnanswered = true;
            log.debug("Members on {} failed: {}", via, e.getStatus());
        } catch (RuntimeException e) {
            log.warn("Agent {}: taking in the members {} announced failed", settings.agentId(), via, e);
        }
    }

    /** A link for every announced server that no link was welcomed as, nor connects to. */
    synchronized void adopt(List<Member> members) {
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
                openLink.accept(channels.open(m.getAddress()));
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

    private synchronized boolean isClosed() {
        return closed;
    }

    /** No new links from here on. */
    synchronized void close() {
        closed = true;
    }
}
