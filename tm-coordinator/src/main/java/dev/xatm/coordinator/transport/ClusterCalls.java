package dev.xatm.coordinator.transport;

import dev.xatm.core.Ids;
import dev.xatm.protocol.v1.StatusResponse;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.Member;
import dev.xatm.protocol.v1.MembersResponse;
import dev.xatm.protocol.v1.ResumeAnswer;
import dev.xatm.protocol.v1.ResumeRequest;
import dev.xatm.protocol.v1.ResumeResponse;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.protocol.v1.Verdict;
import dev.xatm.coordinator.cluster.Cluster;
import dev.xatm.coordinator.cluster.Ownership;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

import dev.xatm.coordinator.transport.CallAnswers.CallName;

import static dev.xatm.coordinator.transport.CallAnswers.call;
import static dev.xatm.coordinator.transport.CallAnswers.refuse;
import static dev.xatm.coordinator.transport.CallAnswers.send;

/**
 * The calls of the {@link CoordinatorService} that the shared store answers, not the state machine
 * (docs/ha.md): Members (the servers holding a live lease), Resume (rule R4 for each asked branch)
 * and GetStatus of a gtrid this server does not hold. Nothing here reaches the loop or sends on any
 * stream: an answer is a response to the call, never a phase command. Thread-safe (immutable; the
 * store reads complete on its own thread).
 */
final class ClusterCalls {
    private final Cluster cluster;
    private final Ownership ownership;

    ClusterCalls(Cluster cluster, Ownership ownership) {
        this.cluster = cluster;
        this.ownership = ownership;
    }

    void members(StreamObserver<MembersResponse> out) {
        send(out, MembersResponse.newBuilder().addAllMembers(members(cluster)).build());
    }

    static List<Member> members(Cluster cluster) {
        return cluster.members().stream()
                .map(m -> Member.newBuilder().setNodeId(m.nodeId()).setEpoch(m.epoch()).setAddress(m.address()).build())
                .toList();
    }

    /**
     * Rule R4 for each asked branch, from the store; nothing is sent on any stream and nothing reaches
     * the loop. On a store of one server, and for this incarnation's own gtrids, every answer is
     * ASK_OWNER: the agent's Inquiry on its stream gets the state machine's answer.
     */
    void resume(ResumeRequest request, StreamObserver<ResumeResponse> out) {
        CallName call = call("Resume");
        if (request.getBranchesCount() > CoordinatorService.RESUME_MAX) {
            refuse(out, call, Status.INVALID_ARGUMENT.withDescription("at most " + CoordinatorService.RESUME_MAX + " branches per Resume, got "
                    + request.getBranchesCount()));
            return;
        }
        List<String> gtrids = new ArrayList<>(request.getBranchesCount());
        try {
            for (Inquiry b : request.getBranchesList()) {
                Ids.requireGtrid(b.getGtrid());
                Ids.requireBqual(b.getBqual());
                Ids.requireName("resource_id", b.getResourceId());
                if (!ownership.foreign(b.getGtrid())) {
                    gtrids.add(b.getGtrid());
                }
            }
        } catch (IllegalArgumentException e) {
            refuse(out, call, Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
            return;
        }
        cluster.verdicts(gtrids).whenComplete((verdicts, error) -> {
            if (error != null) {
                storeFailed(out, call, error);
                return;
            }
            ResumeResponse.Builder response = ResumeResponse.newBuilder();
            for (Inquiry b : request.getBranchesList()) {
                Verdict v = ownership.foreign(b.getGtrid()) ? Verdict.VERDICT_NOT_MINE : verdict(verdicts.get(b.getGtrid()));
                response.addAnswers(ResumeAnswer.newBuilder().setGtrid(b.getGtrid()).setBqual(b.getBqual()).setVerdict(v));
            }
            send(out, response.build());
        });
    }

    private static Verdict verdict(dev.xatm.core.cluster.Verdict v) {
        return switch (v == null ? dev.xatm.core.cluster.Verdict.ASK_OWNER : v) {
            case COMMIT -> Verdict.VERDICT_COMMIT;
            case ROLLBACK -> Verdict.VERDICT_ROLLBACK;
            case ASK_OWNER -> Verdict.VERDICT_ASK_OWNER;
        };
    }

    /** GetStatus of another server's gtrid: a durable decision or a fenced owner answers; else its owner must. */
    void foreignStatus(String gtrid, CallName call, StreamObserver<StatusResponse> out) {
        cluster.verdicts(List.of(gtrid)).whenComplete((verdicts, error) -> {
            if (error != null) {
                storeFailed(out, call, error);
                return;
            }
            switch (verdicts.get(gtrid)) {
                case COMMIT -> send(out, StatusResponse.newBuilder().setStatus(TxnStatus.COMMITTING).build());
                case ROLLBACK -> send(out, StatusResponse.newBuilder().setStatus(TxnStatus.UNKNOWN).build());
                case ASK_OWNER -> refuse(out, call, Status.FAILED_PRECONDITION.withDescription(ownership.refusal(gtrid)));
            }
        });
    }

    private <T> void storeFailed(StreamObserver<T> out, CallName call, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        refuse(out, call, Status.UNAVAILABLE.withDescription("cannot answer for another server's transactions now: "
                + cause.getMessage()));
    }
}
