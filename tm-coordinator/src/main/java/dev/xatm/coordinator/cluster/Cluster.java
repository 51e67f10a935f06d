package dev.xatm.coordinator.cluster;

import dev.xatm.core.cluster.Verdict;
import dev.xatm.protocol.GtridOwner;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What this server knows of the other servers sharing its store: who it is (the owner tag of the
 * gtrids minted for it), who else is live, and what happened to a gtrid it does not own (docs/ha.md, rule
 * R4). A store of one server (the file log) has no cluster: {@link #SINGLE}.
 */
public interface Cluster {

    /** One server holding a live lease. */
    record Member(int nodeId, long epoch, String address) {}

    /** This incarnation, as gtrids name it; empty on a store of one server. */
    Optional<GtridOwner> self();

    /** The servers holding a live lease now (this one included), as last read; empty on a store of one server. */
    List<Member> members();

    /**
     * R4 for each gtrid, read from the store: a decision row decides (COMMIT, or ROLLBACK for an ABORT;
     * a 3PC PRE_COMMIT still being driven is ASK_OWNER); no row while the owner's epoch has moved on is
     * ROLLBACK forever (its insert was fenced on that epoch); no row while the owner is live is
     * ASK_OWNER. Gtrids this incarnation owns are ASK_OWNER too: its state machine answers for them.
     * Completes exceptionally when the store cannot be read.
     */
    CompletableFuture<Map<String, Verdict>> verdicts(Collection<String> gtrids);

    /** The file log: one server, which owns every gtrid it is asked about. */
    Cluster SINGLE = new Cluster() {
        @Override
        public Optional<GtridOwner> self() {
            return Optional.empty();
        }

        @Override
        public List<Member> members() {
            return List.of();
        }

        @Override
        public CompletableFuture<Map<String, Verdict>> verdicts(Collection<String> gtrids) {
            return CompletableFuture.completedFuture(gtrids.stream().distinct()
                    .collect(Collectors.toMap(Function.identity(), g -> Verdict.ASK_OWNER)));
        }
    };
}
