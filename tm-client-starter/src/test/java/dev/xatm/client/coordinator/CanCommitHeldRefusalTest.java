package dev.xatm.client.coordinator;

import dev.xatm.client.GlobalOutcome;
import dev.xatm.protocol.v1.CanCommitHeldResponse;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.Outcome;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the starter makes of the server's answer to the first request of the cheap three-phase
 * commit: a server from before it (UNIMPLEMENTED), or one that refuses it before deciding anything,
 * sends the caller to the coordinator-driven path; "pre-commit" carries the server's participant
 * timeout; an outcome is an outcome.
 */
class CanCommitHeldRefusalTest {
    private static final String TOKEN = "test-token-0123456789abcdef";
    private static final List<PreparedBranch> ANSWERS = List.of(new PreparedBranch("b1", "db1", PreparedBranch.Vote.YES),
            new PreparedBranch("b2", "db2", PreparedBranch.Vote.YES));

    private static HeldCanCommit ask(CoordinatorGrpc.CoordinatorImplBase service) throws Exception {
        String name = "held-" + System.nanoTime();
        Server server = InProcessServerBuilder.forName(name).directExecutor().addService(service).build().start();
        try (CoordinatorChannel channel = CoordinatorChannel.inProcess(name, TOKEN, "tm-server (test)")) {
            GrpcCoordinatorAccess access = new GrpcCoordinatorAccess(channel, "test-instance-secret-0001", 5_000, 5_000);
            return access.canCommitHeld("g1", "n", 30_000, "a1", ANSWERS);
        } finally {
            server.shutdownNow();
        }
    }

    private static CoordinatorGrpc.CoordinatorImplBase answering(Status refusal) {
        return new CoordinatorGrpc.CoordinatorImplBase() {
            @Override
            public void canCommitHeld(CommitRequest request, StreamObserver<CanCommitHeldResponse> response) {
                response.onError(refusal.asRuntimeException());
            }
        };
    }

    @Test
    void aServerFromBeforeTheCallSendsTheCallerToTheStrictPath() throws Exception {
        HeldCanCommit r = ask(new CoordinatorGrpc.CoordinatorImplBase() { });
        assertThat(r.kind()).isEqualTo(HeldCanCommit.Kind.REFUSED);
        assertThat(r.outcome().detail()).contains("UNIMPLEMENTED");
    }

    @Test
    void aRefusalBeforeAnyDecisionSendsTheCallerToTheStrictPathToo() throws Exception {
        assertThat(ask(answering(Status.FAILED_PRECONDITION.withDescription("not mine"))).kind()).isEqualTo(HeldCanCommit.Kind.REFUSED);
        assertThat(ask(answering(Status.INVALID_ARGUMENT.withDescription("bad"))).kind()).isEqualTo(HeldCanCommit.Kind.REFUSED);
    }

    @Test
    void preCommitCarriesTheServersParticipantTimeoutAndAnOutcomeIsAnOutcome() throws Exception {
        HeldCanCommit go = ask(new CoordinatorGrpc.CoordinatorImplBase() {
            @Override
            public void canCommitHeld(CommitRequest request, StreamObserver<CanCommitHeldResponse> response) {
                assertThat(request.getPreparedCount()).isEqualTo(2);
                response.onNext(CanCommitHeldResponse.newBuilder().setPreCommit(true).setParticipantPreCommitTimeoutMs(12_345).build());
                response.onCompleted();
            }
        });
        assertThat(go).isEqualTo(HeldCanCommit.preCommit(12_345));

        HeldCanCommit no = ask(new CoordinatorGrpc.CoordinatorImplBase() {
            @Override
            public void canCommitHeld(CommitRequest request, StreamObserver<CanCommitHeldResponse> response) {
                response.onNext(CanCommitHeldResponse.newBuilder().setOutcome(Outcome.ROLLED_BACK).setDetail("a NO").build());
                response.onCompleted();
            }
        });
        assertThat(no.kind()).isEqualTo(HeldCanCommit.Kind.DECIDED);
        assertThat(no.outcome().outcome()).isEqualTo(GlobalOutcome.ROLLED_BACK);
    }
}
