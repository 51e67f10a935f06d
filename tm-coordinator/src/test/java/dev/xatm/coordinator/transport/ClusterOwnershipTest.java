package dev.xatm.coordinator.transport;

import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.v1.BeginRequest;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.MembersRequest;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PreparedBranch;
import dev.xatm.protocol.v1.RegisterBranchRequest;
import dev.xatm.protocol.v1.ResumeRequest;
import dev.xatm.protocol.v1.RollbackRequest;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.protocol.v1.Verdict;
import dev.xatm.protocol.v1.Welcome;
import dev.xatm.coordinator.CoordinatorTestApplication;
import dev.xatm.coordinator.cluster.Cluster;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.testkit.FakeAgent;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The server as node 1 (epoch 3) of a cluster, over real gRPC, with the store's answers scripted
 * ({@link ScriptedCluster}): Welcome and Members name the cluster; TM calls for a gtrid this
 * incarnation does not own are refused before anything happens; GetStatus, Inquiry and Resume about
 * other owners' gtrids follow the store's rule-R4 verdicts, and never the core's presumed abort.
 * (How tm-server's admin API names another node's gtrid is tested in tm-server.)
 */
@SpringBootTest(classes = {CoordinatorTestApplication.class, ClusterOwnershipTest.TestBeans.class},
        webEnvironment = SpringBootTest.WebEnvironment.NONE, properties = {
        "tm.server.port=0",
        "tm.server.auth-token=" + ClusterOwnershipTest.TOKEN,
        "tm.server.tick-ms=20",
        "tm.server.retry-initial-ms=100",
        "tm.server.retry-max-ms=400"})
class ClusterOwnershipTest {
    static final String TOKEN = "test-token-cluster-0123456789";
    static final GtridOwner SELF = new GtridOwner(1, 3);
    private static final AtomicInteger SEQ = new AtomicInteger();
    static final ScriptedCluster CLUSTER = new ScriptedCluster();
    static final List<Integer> HALTS = new CopyOnWriteArrayList<>();

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry registry) throws Exception {
        Path dir = Files.createTempDirectory("tm-cluster-test");
        registry.add("tm.server.file.dir", dir::toString);
    }

    @TestConfiguration
    static class TestBeans {
        @Bean
        @Primary
        Cluster scriptedCluster() {
            return CLUSTER;
        }

        @Bean
        @Primary
        CoordinatorLoop.Halt recordingHalt() {
            return HALTS::add;
        }
    }

    /** Node 1 at epoch 3 of a cluster whose store answers what the test put in {@link #verdicts}. */
    static final class ScriptedCluster implements Cluster {
        final Map<String, dev.xatm.core.cluster.Verdict> verdicts = new ConcurrentHashMap<>();
        final List<Collection<String>> asked = new CopyOnWriteArrayList<>();

        @Override
        public Optional<GtridOwner> self() {
            return Optional.of(SELF);
        }

        @Override
        public List<Member> members() {
            return List.of(new Member(1, 3, "127.0.0.1:7071"), new Member(2, 8, "127.0.0.1:7072"));
        }

        @Override
        public CompletableFuture<Map<String, dev.xatm.core.cluster.Verdict>> verdicts(Collection<String> gtrids) {
            asked.add(List.copyOf(gtrids));
            return CompletableFuture.completedFuture(gtrids.stream().distinct()
                    .collect(Collectors.toMap(g -> g, g -> verdicts.getOrDefault(g, dev.xatm.core.cluster.Verdict.ASK_OWNER))));
        }
    }

    @Autowired
    GrpcServer grpc;

    private ManagedChannel channel;
    private CoordinatorGrpc.CoordinatorBlockingStub client;
    private CoordinatorGrpc.CoordinatorStub async;
    private FakeAgent agent;

    @BeforeEach
    void connect() {
        channel = NettyChannelBuilder.forAddress("localhost", grpc.port()).usePlaintext().build();
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
        client = CoordinatorGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(15, TimeUnit.SECONDS);
        async = CoordinatorGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        if (agent != null) {
            agent.close();
        }
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        assertThat(HALTS).isEmpty();
    }

    @Test
    void welcomeAndMembersNameTheCluster() throws Exception {
        agent = new FakeAgent("agent-w", false).open(async);
        agent.send(dev.xatm.protocol.v1.AgentMessage.newBuilder()
                .setHello(dev.xatm.protocol.v1.Hello.newBuilder().setAgentId("agent-w")
                        .setInstanceSecret(FakeAgent.secretFor("agent-w"))).build());
        ServerMessage first = agent.next();

        Welcome w = first.getWelcome();
        assertThat(w.getNodeId()).isEqualTo(1);
        assertThat(w.getEpoch()).isEqualTo(3);
        assertThat(w.getMembersList()).extracting(m -> m.getNodeId() + "@" + m.getAddress())
                .containsExactly("1@127.0.0.1:7071", "2@127.0.0.1:7072");
        assertThat(client.members(MembersRequest.getDefaultInstance()).getMembersList()).hasSize(2);
    }

    @Test
    void tmCallsForAGtridThisIncarnationDoesNotOwnAreRefusedAndChangeNothing() {
        String ofNode2 = new GtridOwner(2, 8).tag(unique());
        String ofEarlierSelf = new GtridOwner(1, 2).tag(unique());
        String untagged = unique();

        assertStatus(() -> client.begin(BeginRequest.newBuilder().setGtrid(ofNode2).build()), "belongs to node 2 (epoch 8)");
        assertStatus(() -> client.begin(BeginRequest.newBuilder().setGtrid(ofEarlierSelf).build()), "earlier incarnation");
        assertStatus(() -> client.begin(BeginRequest.newBuilder().setGtrid(untagged).build()), "no owner tag");
        assertStatus(() -> client.registerBranch(RegisterBranchRequest.newBuilder().setGtrid(ofNode2).setBqual("b1")
                .setResourceId("db-0").setAgentId("agent-x").build()), "node 2");
        assertStatus(() -> client.commit(votes(ofNode2)), "node 2");
        assertStatus(() -> client.commit(votes(untagged)), "no owner tag");
        assertStatus(() -> client.rollback(RollbackRequest.newBuilder().setGtrid(ofNode2).build()), "node 2");

        // nothing was begun or decided here for them, and the store was never asked for an outcome by these calls
        String own = SELF.tag(unique());
        assertThat(client.getStatus(GetStatusRequest.newBuilder().setGtrid(own).build()).getStatus()).isEqualTo(TxnStatus.UNKNOWN);
        assertThat(CLUSTER.asked).noneMatch(a -> a.contains(ofNode2) || a.contains(untagged));
    }

    @Test
    void ownGtridsAreDecidedHereAsBefore() throws Exception {
        agent = new FakeAgent("agent-own", true).connect(async);
        String own = SELF.tag(unique());

        assertThat(client.commit(votes(own)).getOutcome()).isEqualTo(Outcome.COMMITTED);
    }

    @Test
    void statusOfAnotherOwnersGtridFollowsTheStore() {
        String committed = new GtridOwner(2, 8).tag(unique());
        String fenced = new GtridOwner(2, 7).tag(unique());
        String live = new GtridOwner(2, 8).tag(unique());
        CLUSTER.verdicts.put(committed, dev.xatm.core.cluster.Verdict.COMMIT);
        CLUSTER.verdicts.put(fenced, dev.xatm.core.cluster.Verdict.ROLLBACK);

        assertThat(client.getStatus(GetStatusRequest.newBuilder().setGtrid(committed).build()).getStatus()).isEqualTo(TxnStatus.COMMITTING);
        assertThat(client.getStatus(GetStatusRequest.newBuilder().setGtrid(fenced).build()).getStatus()).isEqualTo(TxnStatus.UNKNOWN);
        assertStatus(() -> client.getStatus(GetStatusRequest.newBuilder().setGtrid(live).build()), "node 2");
    }

    @Test
    void resumeAnswersEachBranchInOrderAndRefusesBadInput() {
        String committed = new GtridOwner(2, 8).tag(unique());
        String fenced = new GtridOwner(3, 1).tag(unique());
        String live = new GtridOwner(2, 8).tag(unique());
        CLUSTER.verdicts.put(committed, dev.xatm.core.cluster.Verdict.COMMIT);
        CLUSTER.verdicts.put(fenced, dev.xatm.core.cluster.Verdict.ROLLBACK);

        var answers = client.resume(ResumeRequest.newBuilder().addBranches(inquiry(committed, "b1")).addBranches(inquiry(fenced, "b2"))
                .addBranches(inquiry(live, "b3")).addBranches(inquiry(committed, "b4")).build()).getAnswersList();

        assertThat(answers).extracting(a -> a.getGtrid() + "/" + a.getBqual() + "=" + a.getVerdict()).containsExactly(
                committed + "/b1=" + Verdict.VERDICT_COMMIT, fenced + "/b2=" + Verdict.VERDICT_ROLLBACK,
                live + "/b3=" + Verdict.VERDICT_ASK_OWNER, committed + "/b4=" + Verdict.VERDICT_COMMIT);

        ResumeRequest.Builder tooMany = ResumeRequest.newBuilder();
        for (int i = 0; i <= CoordinatorService.RESUME_MAX; i++) {
            tooMany.addBranches(inquiry(committed, "b" + i));
        }
        assertStatus(() -> client.resume(tooMany.build()), Status.Code.INVALID_ARGUMENT, "at most");
        assertStatus(() -> client.resume(ResumeRequest.newBuilder().addBranches(inquiry("bad gtrid", "b1")).build()),
                Status.Code.INVALID_ARGUMENT, "gtrid");
    }

    @Test
    void anInquiryAboutAnotherOwnersGtridIsAnsweredFromTheStoreNeverPresumedAborted() throws Exception {
        agent = new FakeAgent("agent-q", false).connect(async);
        String committed = new GtridOwner(2, 8).tag(unique());
        String live = new GtridOwner(2, 8).tag(unique());
        String fenced = new GtridOwner(2, 7).tag(unique());
        String ownUnknown = SELF.tag(unique());
        CLUSTER.verdicts.put(committed, dev.xatm.core.cluster.Verdict.COMMIT);
        CLUSTER.verdicts.put(fenced, dev.xatm.core.cluster.Verdict.ROLLBACK);

        agent.send(dev.xatm.protocol.v1.AgentMessage.newBuilder().setInquiry(inquiry(live, "b1")).build());
        agent.send(dev.xatm.protocol.v1.AgentMessage.newBuilder().setInquiry(inquiry(committed, "b1")).build());
        agent.send(dev.xatm.protocol.v1.AgentMessage.newBuilder().setInquiry(inquiry(fenced, "b1")).build());
        agent.send(dev.xatm.protocol.v1.AgentMessage.newBuilder().setInquiry(inquiry(ownUnknown, "b1")).build());

        List<ServerMessage> got = List.of(agent.next(), agent.next(), agent.next());
        assertThat(got).extracting(m -> m.getCommand().getGtrid() + "=" + m.getCommand().getAction())
                .containsExactlyInAnyOrder(committed + "=" + PhaseAction.COMMIT, fenced + "=" + PhaseAction.ROLLBACK,
                        ownUnknown + "=" + PhaseAction.ROLLBACK);
        assertThat(agent.received.poll(500, TimeUnit.MILLISECONDS)).as("nothing for a live owner's undecided gtrid").isNull();
        assertThat(client.getStatus(GetStatusRequest.newBuilder().setGtrid(fenced).build()).getStatus())
                .as("a fenced owner's rollback is remembered here once answered").isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(client.commit(CommitRequest.newBuilder().setGtrid(fenced).build()).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        assertStatus(() -> client.commit(CommitRequest.newBuilder().setGtrid(live).build()), "node 2");
    }

    // ---------------------------------------------------------------- helpers

    private static String unique() {
        return "xatm:t" + SEQ.incrementAndGet() + "." + Long.toString(System.nanoTime(), 36);
    }

    private static CommitRequest votes(String gtrid) {
        return CommitRequest.newBuilder().setGtrid(gtrid).setAgentId("agent-own").setAgentSecret(FakeAgent.secretFor("agent-own")).setName("t").setTimeoutMs(10_000)
                .addPrepared(PreparedBranch.newBuilder().setBqual("b1").setResourceId("db-0").setVote(BranchVote.YES))
                .addPrepared(PreparedBranch.newBuilder().setBqual("b2").setResourceId("db-1").setVote(BranchVote.YES)).build();
    }

    private static Inquiry inquiry(String gtrid, String bqual) {
        return Inquiry.newBuilder().setGtrid(gtrid).setBqual(bqual).setResourceId("db-0").build();
    }

    private static void assertStatus(ThrowableAssert.ThrowingCallable call, String messagePart) {
        assertStatus(call, Status.Code.FAILED_PRECONDITION, messagePart);
    }

    private static void assertStatus(ThrowableAssert.ThrowingCallable call, Status.Code code, String messagePart) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(String.valueOf(e.getStatus().getDescription())).contains(messagePart);
        });
    }
}
