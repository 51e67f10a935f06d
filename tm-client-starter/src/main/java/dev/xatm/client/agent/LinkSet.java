package dev.xatm.client.agent;

import dev.xatm.client.TmSystemException;
import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.client.coordinator.ServerRoutes;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.v1.Member;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The agent's links, in configuration order (links to servers the cluster announced come after the
 * configured ones), and the routing rules over them ({@link ServerRoutes}):
 * <ul>
 *   <li>a tagged gtrid is served by the connected link whose Welcome named its owner's node id, and by
 *       no other (only the owner may decide it);</li>
 *   <li>an untagged gtrid by the primary link: the first connected one in configuration order (on a
 *       file store there is one server; several addresses there are fail-over candidates);</li>
 *   <li>new gtrids are minted for the connected links with a node id in turn, leaving out a server the
 *       cluster no longer lists as holding a lease (unless that would leave none).</li>
 * </ul>
 * Thread-safe: the list is copy-on-write, and waiters are woken by {@link #changed()}.
 */
final class LinkSet implements ServerRoutes {
    private static final Logger log = LoggerFactory.getLogger(LinkSet.class);
    private final List<ServerLink> links = new CopyOnWriteArrayList<>();
    private final AtomicInteger turn = new AtomicInteger();
    private final AtomicInteger askTurn = new AtomicInteger();
    /**
     * Node id to epoch of the servers that held a live lease when the cluster last said so (Welcome,
     * Members); null before it ever did. A server missing there while its stream still looks up is
     * frozen, cut off from the store or taken over: new gtrids are not minted for it, since its
     * transactions would wait for it (a stream notices a frozen peer only after gRPC's 10 s ping).
     */
    private volatile Map<Integer, Long> leaseHolders;
    /** Signalled whenever a link is welcomed or lost. */
    private final Object change = new Object();
    /**
     * The deployment's cluster id as the servers' Welcomes named it; null before the first Welcome, or
     * while the servers predate cluster ids. Every link admitted names the same one ({@link #admitCluster}).
     */
    private volatile ClusterId clusterId;
    private volatile boolean clusterIdHeard;

    void add(ServerLink link) {
        links.add(link);
    }

    void remove(ServerLink link) {
        links.remove(link);
    }

    List<ServerLink> all() {
        return List.copyOf(links);
    }

    /** Wakes everybody waiting for a link. */
    void changed() {
        synchronized (change) {
            change.notifyAll();
        }
    }

    boolean anyConnected() {
        return primary() != null;
    }

    /** The first connected link in configuration order, or null. */
    ServerLink primary() {
        for (ServerLink l : links) {
            if (l.isConnected()) {
                return l;
            }
        }
        return null;
    }

    /** Whether the servers welcomed us without a cluster id (they predate cluster ids): gtrids then name none. */
    boolean serversPredateClusterIds() {
        return clusterIdHeard && clusterId == null;
    }

    /** The deployment's cluster id, when a server has named it. */
    Optional<ClusterId> clusterId() {
        return Optional.ofNullable(clusterId);
    }

    /**
     * Takes in the cluster id {@code link}'s Welcome names. Null when the link may stay; else why not:
     * a malformed id, or one other than the one the other connected links name (tm.client.server-address
     * lists servers of two deployments). A single server whose id changed (its log was replaced) is
     * followed, with a warning: prepared branches naming the old id are then nobody's to recover.
     */
    synchronized String admitCluster(ServerLink link, String named) {
        if (named.isEmpty()) {
            clusterIdHeard = true;
            return null; // a server that predates cluster ids: gtrids stay as they were
        }
        if (!ClusterId.isValid(named)) {
            return "its Welcome names a malformed cluster id";
        }
        ClusterId id = new ClusterId(named);
        ClusterId known = clusterId;
        if (known != null && !known.equals(id)) {
            for (ServerLink l : links) {
                if (l != link && l.isConnected() && l.clusterId().equals(known.value())) {
                    return "it belongs to xatm cluster " + id + ", but " + l.description() + " belongs to cluster " + known
                            + ": tm.client.server-address must list the servers of one deployment only";
                }
            }
            log.warn("{} now belongs to xatm cluster {}, no longer to {}: its transaction log was replaced. Prepared branches"
                    + " naming cluster {} are left alone from now on (see docs/operations.md, cluster ids)", link.description(), id, known, known);
        }
        clusterId = id;
        clusterIdHeard = true;
        return null;
    }

    /** Takes in the servers the cluster says hold a live lease now; an empty list (a file store) changes nothing. */
    void leaseHolders(List<Member> members) {
        if (members.isEmpty()) {
            return;
        }
        Map<Integer, Long> holders = new HashMap<>();
        for (Member m : members) {
            holders.put(m.getNodeId(), m.getEpoch());
        }
        leaseHolders = holders;
    }

    /** Whether the cluster last listed {@code link}'s incarnation as holding a lease (true when it never said). */
    boolean holdsLease(ServerLink link) {
        Map<Integer, Long> holders = leaseHolders;
        return holders == null || Objects.equals(holders.get(link.nodeId()), link.epoch());
    }

    /**
     * The connected links in turn, one per call, for questions any server can answer, those that
     * answered their last one first (a frozen server must not slow every other question down); null
     * when none is connected.
     */
    ServerLink nextToAsk() {
        List<ServerLink> answering = new ArrayList<>();
        List<ServerLink> connected = new ArrayList<>();
        for (ServerLink l : links) {
            if (l.isConnected()) {
                connected.add(l);
                if (!l.membersUnanswered) {
                    answering.add(l);
                }
            }
        }
        List<ServerLink> from = answering.isEmpty() ? connected : answering;
        return from.isEmpty() ? null : from.get(Math.floorMod(askTurn.getAndIncrement(), from.size()));
    }

    /**
     * Whether the last member list says {@code link}'s incarnation is gone: its node is missing, or
     * listed at a later epoch. A list naming an earlier epoch only lags a restart, and says nothing.
     */
    boolean leaseGone(ServerLink link) {
        Map<Integer, Long> holders = leaseHolders;
        if (holders == null) {
            return false;
        }
        Long listed = holders.get(link.nodeId());
        return listed == null || listed > link.epoch();
    }

    /** Whether some link was ever welcomed with a node id: the servers share a store, and gtrids must name an owner. */
    boolean clustered() {
        for (ServerLink l : links) {
            if (l.nodeId() > 0) {
                return true;
            }
        }
        return false;
    }

    /** The connected link to {@code nodeId}, or null. */
    ServerLink connectedTo(int nodeId) {
        for (ServerLink l : links) {
            if (l.isConnected() && l.nodeId() == nodeId) {
                return l;
            }
        }
        return null;
    }

    /** Whether some link other than {@code link}, connected now, serves {@code nodeId}. */
    boolean servedByAnother(ServerLink link, int nodeId) {
        for (ServerLink l : links) {
            if (l != link && l.isConnected() && l.nodeId() == nodeId) {
                return true;
            }
        }
        return false;
    }

    /** Whether a link was ever welcomed as {@code nodeId}, or connects to {@code address}: a member needs no new link then. */
    boolean knows(int nodeId, String address) {
        for (ServerLink l : links) {
            if (l.nodeId() == nodeId || l.address().equals(address)) {
                return true;
            }
        }
        return false;
    }

    /** The connected link that serves {@code gtrid} (see the class comment), or null. */
    ServerLink serving(String gtrid) {
        Optional<GtridOwner> owner = GtridOwner.of(gtrid);
        return owner.isPresent() ? connectedTo(owner.get().nodeId()) : primary();
    }

    /** Whether {@code link} serves {@code gtrid}; for an untagged one, {@code primary} is the primary link to go by. */
    static boolean serves(ServerLink link, ServerLink primary, String gtrid) {
        Optional<GtridOwner> owner = GtridOwner.of(gtrid);
        return owner.isPresent() ? owner.get().nodeId() == link.nodeId() : link == primary;
    }

    @Override
    public Optional<CoordinatorChannel> channelFor(String gtrid) {
        return Optional.ofNullable(serving(gtrid)).map(ServerLink::channel);
    }

    @Override
    public String describeRoute(String gtrid) {
        Optional<GtridOwner> owner = GtridOwner.of(gtrid);
        if (owner.isEmpty()) {
            ServerLink p = primary();
            return p != null ? p.description() : describeAll();
        }
        for (ServerLink l : links) {
            if (l.nodeId() == owner.get().nodeId()) {
                return "tm-server " + owner.get() + " at " + l.address();
            }
        }
        return "tm-server " + owner.get() + " (no link to it yet)";
    }

    String describeAll() {
        List<String> addresses = new ArrayList<>();
        for (ServerLink l : links) {
            addresses.add(l.address());
        }
        return "tm-server at " + String.join(",", addresses);
    }

    @Override
    public Optional<GtridOwner> ownerForNewGtrid(long waitMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        while (true) {
            List<ServerLink> owners = new ArrayList<>();
            boolean anyWelcomed = false;
            for (ServerLink l : links) {
                anyWelcomed |= l.everWelcomed();
                if (l.isConnected() && l.nodeId() > 0 && l.epoch() > 0) {
                    owners.add(l);
                }
            }
            if (!owners.isEmpty()) {
                List<ServerLink> leased = owners.stream().filter(this::holdsLease).toList();
                List<ServerLink> candidates = leased.isEmpty() ? owners : leased; // a stale list must not stop everything
                ServerLink l = candidates.get(Math.floorMod(turn.getAndIncrement(), candidates.size()));
                return Optional.of(new GtridOwner(l.nodeId(), l.epoch()));
            }
            if (anyWelcomed && !clustered()) {
                return Optional.empty(); // a file store (or embedded mode): untagged, as ever
            }
            // Clustered with no server connected, or no Welcome yet to tell: an untagged gtrid could be one
            // no server owns, so wait for a server to mint it for.
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TmSystemException(anyWelcomed
                        ? "No global transaction can begin: none of the tm-servers (" + describeAll() + ") is connected after "
                        + waitMillis + " ms (tm.client.call-timeout-ms), and with several servers each gtrid must name a"
                        + " connected one as its owner. See the tmClient health indicator for why."
                        : "No global transaction can begin: " + describeAll() + " is unreachable, no open stream to any tm-server"
                        + " after " + waitMillis + " ms (tm.client.call-timeout-ms), so it is unknown whether a gtrid must name an"
                        + " owner. Check tm.client.server-address and that tm-server runs.");
            }
            await(left);
        }
    }

    @Override
    public Optional<ClusterId> clusterForNewGtrid(long waitMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        while (!clusterIdHeard) {
            long left = deadline - System.nanoTime();
            if (waitMillis == 0) {
                return Optional.empty();
            }
            if (left <= 0) {
                throw new TmSystemException("No global transaction can begin: " + describeAll() + " has not been reached after "
                        + waitMillis + " ms (tm.client.call-timeout-ms), and every gtrid must name the deployment's cluster id, which"
                        + " the server tells its agents when they connect. Check tm.client.server-address and that tm-server runs.");
            }
            await(left);
        }
        return Optional.ofNullable(clusterId);
    }

    @Override
    public boolean awaitServing(String gtrid, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (serving(gtrid) == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            awaitNanos(left);
        }
        return true;
    }

    private void await(long nanos) {
        try {
            awaitNanos(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TmSystemException("Interrupted while waiting for a connected tm-server", e);
        }
    }

    private void awaitNanos(long nanos) throws InterruptedException {
        // A change between the caller's check and this wait would be missed: wait in slices instead.
        synchronized (change) {
            TimeUnit.NANOSECONDS.timedWait(change, Math.min(nanos, TimeUnit.MILLISECONDS.toNanos(50)));
        }
    }
}
