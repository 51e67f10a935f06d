package dev.xatm.server.admin;

import dev.xatm.coordinator.config.TmServerProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.coordinator.cluster.Cluster;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import java.util.Comparator;
import java.util.List;

/**
 * Read-only view of the servers sharing this server's store: who this one is and which servers hold a
 * live lease, as the {@link Cluster} last read them. It queries nothing itself (the cluster refreshes
 * its members on its own schedule), so it costs nothing and cannot race the lease. Thread-safe: it
 * keeps no state.
 */
@RestController
@Tag(name = "cluster", description = "The servers sharing this server's store")
public class ClusterController {

    /**
     * @param store   {@code jdbc} (a store shared by several servers) or {@code file} (one server, no nodes)
     * @param self    this server; absent on the file store, and on the JDBC store until its lease is claimed
     * @param members the servers holding a live lease now, this one included, by node id; empty on the file store
     */
    record ClusterView(String store, @JsonInclude(JsonInclude.Include.NON_NULL) Member self, List<Member> members) {}

    /**
     * @param ownerTag what the gtrids minted for this incarnation end with ({@code ":<node>.<epoch in base 36>"})
     * @param address  its gRPC address as it advertises it; absent for {@code self}
     */
    record Member(int nodeId, long epoch, String ownerTag, @JsonInclude(JsonInclude.Include.NON_NULL) String address,
                  boolean self) {}

    private final Cluster cluster;
    private final boolean sharedStore;

    public ClusterController(Cluster cluster, AdminSettings settings) {
        this.cluster = cluster;
        this.sharedStore = settings.ownerNode() != null;
    }

    @GetMapping(path = "/api/v1/cluster", produces = MediaType.APPLICATION_JSON_VALUE)
    @Operation(summary = "This server and the others holding a live lease on the shared store",
            description = "On the JDBC store: this server's node id and lease epoch, and every server holding a live lease as last"
                    + " read (node id, epoch, gRPC address, and the tag the gtrids it owns end with). On the file store: no nodes.")
    public ClusterView cluster() {
        if (!sharedStore) {
            return new ClusterView(TmServerProperties.Store.FILE.toString(), null, List.of());
        }
        var self = cluster.self().orElse(null);
        if (self == null) {
            return new ClusterView(TmServerProperties.Store.JDBC.toString(), null, List.of());
        }
        List<Member> members = cluster.members().stream().sorted(Comparator.comparingInt(Cluster.Member::nodeId))
                .map(m -> new Member(m.nodeId(), m.epoch(), tag(m.nodeId(), m.epoch()), m.address(),
                        m.nodeId() == self.nodeId() && m.epoch() == self.epoch()))
                .toList();
        return new ClusterView(TmServerProperties.Store.JDBC.toString(), new Member(self.nodeId(), self.epoch(), tag(self.nodeId(), self.epoch()), null, true), members);
    }

    private static String tag(int nodeId, long epoch) {
        return new GtridOwner(nodeId, epoch).tag("");
    }
}
