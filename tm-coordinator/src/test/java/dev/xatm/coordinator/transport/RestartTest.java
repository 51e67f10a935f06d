package dev.xatm.coordinator.transport;

import dev.xatm.protocol.v1.BeginRequest;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.RegisterBranchRequest;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.coordinator.CoordinatorTestApplication;
import dev.xatm.testkit.FakeAgent;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The start-up path end to end, in-process: a COMMIT decision made durable by one incarnation is
 * resumed by the next (phase 2 finishes when the agents come back), and a transaction that was
 * still undecided is gone (presumed abort). The kill -9 variants are tm-server's integration tests,
 * on the real process.
 */
class RestartTest {
    private static final String TOKEN = "restart-test-token-0123456789";

    @Test
    void aDurableDecisionIsFinishedByTheNextIncarnation(@TempDir Path dir) throws Exception {
        String[] args = {"--tm.server.port=0", "--tm.server.file.dir=" + dir,
                "--tm.server.auth-token=" + TOKEN, "--tm.server.tick-ms=20",
                "--tm.server.retry-initial-ms=100", "--tm.server.retry-max-ms=200"};

        try (Server first = new Server(args)) {
            FakeAgent a = new FakeAgent("agent-a", false).connect(first.async());
            FakeAgent b = new FakeAgent("agent-b", false).connect(first.async());
            first.client().begin(BeginRequest.newBuilder().setGtrid("decided").setName("order").build());
            first.client().registerBranch(register("decided", "b1", a.agentId));
            first.client().registerBranch(register("decided", "b2", b.agentId));
            first.client().begin(BeginRequest.newBuilder().setGtrid("undecided").build());

            Future<OutcomeResponse> commit = CoordinatorGrpc.newFutureStub(first.channel).withInterceptors(bearer())
                    .withDeadlineAfter(15, TimeUnit.SECONDS).commit(CommitRequest.newBuilder().setGtrid("decided").build());
            assertThat(a.next().getCommand()).isEqualTo(command("decided", "b1", PhaseAction.PREPARE));
            assertThat(b.next().getCommand()).isEqualTo(command("decided", "b2", PhaseAction.PREPARE));
            a.vote("decided", "b1", BranchVote.YES);
            b.vote("decided", "b2", BranchVote.YES);
            assertThat(commit.get(15, TimeUnit.SECONDS).getOutcome()).isEqualTo(Outcome.COMMITTED); // durable now
            // the agents never acknowledge their COMMITs before this incarnation goes away
        }

        try (Server second = new Server(args)) {
            assertThat(second.status("decided")).isEqualTo(TxnStatus.COMMITTING);
            assertThat(second.status("undecided")).isEqualTo(TxnStatus.UNKNOWN);

            FakeAgent a = new FakeAgent("agent-a", true).connect(second.async());
            FakeAgent b = new FakeAgent("agent-b", true).connect(second.async());
            await().atMost(Duration.ofSeconds(10)).until(() -> second.status("decided") == TxnStatus.FINISHED_COMMITTED);
            assertThat(a.commands).contains(command("decided", "b1", PhaseAction.COMMIT));
            assertThat(b.commands).contains(command("decided", "b2", PhaseAction.COMMIT));
        }
    }

    /** One incarnation of the coordinator plus a channel to it. */
    private static final class Server implements AutoCloseable {
        final ConfigurableApplicationContext ctx;
        final ManagedChannel channel;

        Server(String[] args) {
            ctx = new SpringApplicationBuilder(CoordinatorTestApplication.class).web(WebApplicationType.NONE).run(args);
            channel = NettyChannelBuilder.forAddress("localhost", ctx.getBean(GrpcServer.class).port()).usePlaintext().build();
        }

        CoordinatorGrpc.CoordinatorBlockingStub client() {
            return CoordinatorGrpc.newBlockingStub(channel).withInterceptors(bearer()).withDeadlineAfter(15, TimeUnit.SECONDS);
        }

        CoordinatorGrpc.CoordinatorStub async() {
            return CoordinatorGrpc.newStub(channel).withInterceptors(bearer());
        }

        TxnStatus status(String gtrid) {
            return client().getStatus(GetStatusRequest.newBuilder().setGtrid(gtrid).build()).getStatus();
        }

        @Override
        public void close() throws InterruptedException {
            ctx.close();
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static RegisterBranchRequest register(String g, String bqual, String agent) {
        return RegisterBranchRequest.newBuilder().setGtrid(g).setBqual(bqual).setResourceId("db-" + bqual).setAgentId(agent)
                .setAgentSecret(FakeAgent.secretFor(agent)).build();
    }

    private static PhaseCommand command(String g, String bqual, PhaseAction action) {
        return PhaseCommand.newBuilder().setGtrid(g).setBqual(bqual).setAction(action).build();
    }

    private static io.grpc.ClientInterceptor bearer() {
        Metadata headers = new Metadata();
        headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + TOKEN);
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }
}
