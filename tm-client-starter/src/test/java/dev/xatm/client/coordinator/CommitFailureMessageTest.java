package dev.xatm.client.coordinator;

import dev.xatm.client.TmSystemException;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.OutcomeResponse;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A commit that gets no answer says what happened and how long it took, instead of claiming the server
 * stayed silent for the whole commit timeout: a refused connection (tm-server down), a deadline that
 * really ran out, and a connection closed mid-call (tm-server killed) each read differently.
 */
class CommitFailureMessageTest {
    private static final String TOKEN = "client-token-0123456789abcdef";

    @Test
    void aRefusedConnectionIsReportedAsSuchWithTheTimeItTook() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try (CoordinatorChannel channel = new CoordinatorChannel(List.of(new InetSocketAddress("127.0.0.1", closedPort)), TOKEN, 10_000)) {
            GrpcCoordinatorAccess access = new GrpcCoordinatorAccess(channel, "test-instance-secret-0001", 5_000, 60_000);
            long started = System.nanoTime();
            assertThatThrownBy(() -> access.commit("g-refused", true))
                    .isInstanceOf(TmSystemException.class)
                    .hasMessageContaining("refused the connection after")
                    .hasMessageContaining("UNAVAILABLE: nothing listens there, tm-server is down or restarting")
                    .hasMessageNotContaining("within 60000 ms");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(30_000);
        }
    }

    @Test
    void aServerThatStaysSilentIsReportedAsADeadlineExceeded() throws Exception {
        String name = "silent-" + System.nanoTime();
        Server server = InProcessServerBuilder.forName(name).directExecutor().addService(new CoordinatorGrpc.CoordinatorImplBase() {
            @Override
            public void commit(CommitRequest request, StreamObserver<OutcomeResponse> response) {
                // never answers
            }
        }).build().start();
        try (CoordinatorChannel channel = CoordinatorChannel.inProcess(name, TOKEN, "tm-server (silent)")) {
            GrpcCoordinatorAccess access = new GrpcCoordinatorAccess(channel, "test-instance-secret-0001", 5_000, 300);
            assertThatThrownBy(() -> access.commit("g-silent", true))
                    .isInstanceOf(TmSystemException.class)
                    .hasMessageContaining("did not answer the commit request within its deadline of 300 ms (DEADLINE_EXCEEDED after");
        } finally {
            server.shutdownNow();
        }
    }

    @Test
    void aConnectionClosedMidCallNamesTheClosingNotATimeout() {
        String what = CallFailure.whatHappened("commit request", Status.UNAVAILABLE.withDescription("Network closed for unknown reason"),
                212, 60_000);
        assertThat(what).startsWith("closed the connection 212 ms into the commit request").contains("UNAVAILABLE: tm-server stopped, crashed or restarted")
                .doesNotContain("60000");
        assertThat(CallFailure.whatHappened("commit request", Status.UNAVAILABLE.withDescription("io exception")
                .withCause(new java.net.ConnectException("Connection refused")), 3, 60_000)).startsWith("refused the connection after 3 ms");
    }
}
