package dev.xatm.coordinator.transport;

import dev.xatm.core.LogRecord;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BeginRequest;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.Welcome;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.RegisterBranchRequest;
import dev.xatm.protocol.v1.RollbackRequest;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.protocol.v1.Vote;
import dev.xatm.coordinator.CoordinatorTestApplication;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.coordinator.log.RecordingTxnLog;
import dev.xatm.coordinator.log.TxnLog;
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
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The coordinator in-process ({@code CoordinatorTestApplication}), driven over real gRPC on a random
 * port: authentication, every kind of bad request (each answered with its code and changing
 * nothing), the agent stream's rules, agent identity, commits with votes on the stream, a two-phase
 * commit with two agents and three-phase commits of an agent's own branches. tm-server's health
 * endpoint is tested in tm-server.
 */
@SpringBootTest(classes = {CoordinatorTestApplication.class, CoordinatorGrpcTest.TestBeans.class},
        webEnvironment = SpringBootTest.WebEnvironment.NONE, properties = {
        "tm.server.port=0",
        "tm.server.auth-token=" + CoordinatorGrpcTest.TOKEN,
        "tm.server.tick-ms=20",
        "tm.server.retry-initial-ms=100",
        "tm.server.retry-max-ms=400",
        "tm.server.prepare-timeout-ms=5000",
        "tm.server.max-timeout-ms=600000"})
@ExtendWith(OutputCaptureExtension.class)
class CoordinatorGrpcTest {
    static final String TOKEN = "test-token-0123456789abcdef";
    private static final AtomicInteger SEQ = new AtomicInteger();
    private static final Path DATA_DIR = tempDir();

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry registry) {
        registry.add("tm.server.file.dir", DATA_DIR::toString);
    }

    @TestConfiguration
    static class TestBeans {
        /** The real file log underneath; this only remembers what was appended. */
        @Bean
        @Primary
        RecordingTxnLog recordingTxnLog(@Qualifier("txnLog") TxnLog fileLog) {
            return new RecordingTxnLog(fileLog);
        }

        /** A fatal error fails the test instead of killing the test JVM. */
        @Bean
        @Primary
        CoordinatorLoop.Halt recordingHalt() {
            return status -> HALTS.add(status);
        }
    }

    static final List<Integer> HALTS = new CopyOnWriteArrayList<>();

    @Autowired
    GrpcServer grpc;
    @Autowired
    CoordinatorLoop loop;
    @Autowired
    RecordingTxnLog txnLog;

    private ManagedChannel channel;
    private CoordinatorGrpc.CoordinatorBlockingStub client;
    private CoordinatorGrpc.CoordinatorStub async;
    private final List<FakeAgent> agents = new ArrayList<>();

    @BeforeEach
    void connect() {
        channel = NettyChannelBuilder.forAddress("localhost", grpc.port()).usePlaintext().build();
        client = CoordinatorGrpc.newBlockingStub(channel).withInterceptors(bearer(TOKEN)).withDeadlineAfter(15, TimeUnit.SECONDS);
        async = CoordinatorGrpc.newStub(channel).withInterceptors(bearer(TOKEN));
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        agents.forEach(FakeAgent::close);
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        assertThat(HALTS).as("the server halted itself").isEmpty();
    }

    // ---------------------------------------------------------------- authentication

    @Test
    void callsWithoutOrWithAWrongTokenAreRefusedAndLoggedWithoutTheToken(CapturedOutput output) throws Exception {
        var noToken = CoordinatorGrpc.newBlockingStub(channel);
        assertStatus(() -> noToken.getStatus(status("g-auth")), Status.Code.UNAUTHENTICATED, "bearer token");

        var wrongToken = CoordinatorGrpc.newBlockingStub(channel).withInterceptors(bearer("wrong-token-value-123"));
        assertStatus(() -> wrongToken.begin(BeginRequest.newBuilder().setGtrid("g-auth").build()), Status.Code.UNAUTHENTICATED, "bearer token");

        FakeAgent intruder = agent("agent-intruder", false).open(CoordinatorGrpc.newStub(channel));
        assertThat(intruder.ended.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);

        assertThat(client.getStatus(status("g-auth")).getStatus()).isEqualTo(TxnStatus.UNKNOWN); // nothing was begun
        // Three refusals of one client address within a minute: one WARN line, the others only counted.
        assertThat(output).contains("Refused xatm.v1.Coordinator/GetStatus from")
                .doesNotContain("Refused xatm.v1.Coordinator/Begin from").doesNotContain("Refused xatm.v1.Coordinator/Connect from")
                .doesNotContain("wrong-token-value-123").doesNotContain(TOKEN);
        assertThat(output.getAll().lines().filter(l -> l.contains("Refused xatm.v1.Coordinator/"))).hasSize(1);
    }

    // ---------------------------------------------------------------- bad requests change nothing

    @Test
    void malformedInputIsInvalidArgumentAndNeverReachesTheCore() throws InterruptedException {
        String g = begin();
        String other = gtrid();

        assertStatus(() -> client.begin(BeginRequest.newBuilder().setGtrid("has space").build()), Status.Code.INVALID_ARGUMENT, "gtrid must be");
        assertStatus(() -> client.begin(BeginRequest.newBuilder().setGtrid("x".repeat(65)).build()), Status.Code.INVALID_ARGUMENT, "gtrid must be");
        assertStatus(() -> client.begin(BeginRequest.newBuilder().setGtrid(other).setTimeoutMs(-1).build()), Status.Code.INVALID_ARGUMENT, "timeout_ms");
        assertStatus(() -> client.begin(BeginRequest.newBuilder().setGtrid(other).setTimeoutMs(600_001).build()), Status.Code.INVALID_ARGUMENT, "timeout_ms");
        assertStatus(() -> client.begin(BeginRequest.newBuilder().setGtrid(other).setName("tab\there").build()), Status.Code.INVALID_ARGUMENT, "name");
        assertStatus(() -> client.registerBranch(register(g, "", "db-0", "agent-x")), Status.Code.INVALID_ARGUMENT, "bqual");
        assertStatus(() -> client.registerBranch(register(g, "b1", "db 0", "agent-x")), Status.Code.INVALID_ARGUMENT, "resourceId");
        assertStatus(() -> client.registerBranch(register(g, "b1", "db-0", "")), Status.Code.INVALID_ARGUMENT, "agentId");
        assertStatus(() -> client.registerBranch(register("", "b1", "db-0", "agent-x")), Status.Code.INVALID_ARGUMENT, "gtrid");
        assertStatus(() -> client.commit(CommitRequest.newBuilder().setGtrid("").build()), Status.Code.INVALID_ARGUMENT, "gtrid");
        assertStatus(() -> client.rollback(RollbackRequest.newBuilder().setGtrid("a/b").build()), Status.Code.INVALID_ARGUMENT, "gtrid");
        assertStatus(() -> client.getStatus(status("\u00e9")), Status.Code.INVALID_ARGUMENT, "gtrid");

        assertThat(statusOf(g)).isEqualTo(TxnStatus.ACTIVE);
        assertThat(statusOf(other)).isEqualTo(TxnStatus.UNKNOWN);
        agent("agent-x", true).connect(async);
        client.registerBranch(register(g, "b1", "db-0", "agent-x")); // still open for business
    }

    @Test
    void anUnknownGtridIsNotFound() {
        String g = gtrid();
        assertStatus(() -> client.commit(CommitRequest.newBuilder().setGtrid(g).build()), Status.Code.NOT_FOUND, g);
        assertStatus(() -> client.rollback(RollbackRequest.newBuilder().setGtrid(g).build()), Status.Code.NOT_FOUND, g);
        assertStatus(() -> client.registerBranch(register(g, "b1", "db-0", "agent-x")), Status.Code.NOT_FOUND, g);
        assertThat(statusOf(g)).isEqualTo(TxnStatus.UNKNOWN);
    }

    @Test
    void aDuplicateBeginIsAlreadyExists() {
        String g = begin();
        assertStatus(() -> client.begin(BeginRequest.newBuilder().setGtrid(g).build()), Status.Code.ALREADY_EXISTS, g);
        assertThat(statusOf(g)).isEqualTo(TxnStatus.ACTIVE);
    }

    @Test
    void registeringOnAFinishedTransactionIsFailedPrecondition() {
        String g = begin();
        OutcomeResponse committed = client.commit(CommitRequest.newBuilder().setGtrid(g).build()); // no branches: at once
        assertThat(committed.getOutcome()).isEqualTo(Outcome.COMMITTED);

        assertStatus(() -> client.registerBranch(register(g, "b1", "db-0", "agent-x")), Status.Code.FAILED_PRECONDITION, g);
        assertThat(statusOf(g)).isEqualTo(TxnStatus.FINISHED_COMMITTED);
    }

    // ---------------------------------------------------------------- the agent stream

    @Test
    void badAgentMessagesGetAProtocolErrorAndTheStreamStaysOpen() throws Exception {
        FakeAgent a = agent("agent-bad-msgs", false).connect(async);
        String g = begin();
        client.registerBranch(register(g, "b1", "db-0", a.agentId));

        a.vote(g, "no-such-branch", BranchVote.YES);
        assertThat(a.next().getError().getCode()).isEqualTo("NOT_FOUND");
        a.vote("bad gtrid", "b1", BranchVote.YES);
        assertThat(a.next().getError().getCode()).isEqualTo("INVALID_ARGUMENT");
        a.send(AgentMessage.newBuilder().setVote(Vote.newBuilder().setGtrid(g).setBqual("b1")).build()); // vote unspecified
        assertThat(a.next().getError().getMessage()).contains("vote must be");
        a.send(AgentMessage.newBuilder().setHello(dev.xatm.protocol.v1.Hello.newBuilder().setAgentId(a.agentId).setInstanceSecret(a.instanceSecret)).build());
        assertThat(a.next().getError().getCode()).isEqualTo("FAILED_PRECONDITION");

        // still open: an inquiry about a transaction the server never decided is answered ROLLBACK
        String unknown = gtrid();
        a.send(AgentMessage.newBuilder().setInquiry(Inquiry.newBuilder().setGtrid(unknown).setBqual("b7").setResourceId("db-0")).build());
        assertThat(a.next().getCommand()).isEqualTo(command(unknown, "b7", PhaseAction.ROLLBACK));
        assertThat(a.ended).isNotDone();
        assertThat(statusOf(g)).isEqualTo(TxnStatus.ACTIVE);
    }

    @Test
    void theFirstMessageOnAStreamMustBeHello() throws Exception {
        FakeAgent a = agent("agent-no-hello", false).open(async);
        a.vote("g1", "b1", BranchVote.YES);
        ServerMessage error = a.next();
        assertThat(error.getError().getCode()).isEqualTo("INVALID_ARGUMENT");
        assertThat(error.getError().getMessage()).contains("first message on Connect must be Hello");
        assertThat(a.ended.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void aNewStreamWithTheSameAgentIdReplacesTheOldOne() throws Exception {
        FakeAgent first = agent("agent-twice", false).connect(async);
        FakeAgent second = agent("agent-twice", true).connect(async);
        assertThat(first.ended.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.ABORTED);

        // commands for the agent's branches now go to the new stream
        String g = begin();
        client.registerBranch(register(g, "b1", "db-0", "agent-twice"));
        OutcomeResponse r = client.commit(CommitRequest.newBuilder().setGtrid(g).setWaitForCompletion(true).build());
        assertThat(r.getOutcome()).isEqualTo(Outcome.COMMITTED);
        assertThat(second.commands).containsExactly(command(g, "b1", PhaseAction.COMMIT_ONE_PHASE));
        assertThat(first.commands).isEmpty();
    }

    // ---------------------------------------------------------------- commit

    @Test
    void twoPhaseCommitWithTwoAgents() throws Exception {
        FakeAgent a = agent("agent-2pc-a", true).connect(async);
        FakeAgent b = agent("agent-2pc-b", true).connect(async);
        String g = begin();
        client.registerBranch(register(g, "b1", "db-0", a.agentId));
        client.registerBranch(register(g, "b2", "db-1", b.agentId));

        OutcomeResponse r = client.commit(CommitRequest.newBuilder().setGtrid(g).setWaitForCompletion(true).build());

        assertThat(r.getOutcome()).isEqualTo(Outcome.COMMITTED);
        assertThat(a.commands).containsExactly(command(g, "b1", PhaseAction.PREPARE), command(g, "b1", PhaseAction.COMMIT));
        assertThat(b.commands).containsExactly(command(g, "b2", PhaseAction.PREPARE), command(g, "b2", PhaseAction.COMMIT));
        assertThat(statusOf(g)).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        List<LogRecord> logged = txnLog.appended().stream().filter(rec -> rec.gtrid().equals(g)).toList();
        assertThat(logged).hasSize(2);
        assertThat(logged.get(0)).isInstanceOfSatisfying(LogRecord.Decision.class,
                d -> assertThat(d.branches()).extracting(br -> br.bqual() + "@" + br.agentId())
                        .containsExactlyInAnyOrder("b1@agent-2pc-a", "b2@agent-2pc-b"));
        assertThat(logged.get(1)).isEqualTo(new LogRecord.Completed(g));
        // a repeated commit gets the remembered outcome
        assertThat(client.commit(CommitRequest.newBuilder().setGtrid(g).build()).getOutcome()).isEqualTo(Outcome.COMMITTED);
    }

    /**
     * Commit requests with votes on the agent's stream: each is checked and decided as the Commit call
     * would, answered on the stream by gtrid, and the votes are the stream's agent's whatever agent_id
     * the request names.
     */
    @Test
    void commitRequestsOnTheAgentStreamAreAnsweredThere() throws Exception {
        FakeAgent a = agent("agent-stream-commits", false).connect(async);
        assertThat(a.welcome.getCommitsOnStream()).isTrue();
        String committed = gtrid();
        String vetoed = gtrid();
        a.send(AgentMessage.newBuilder().setCommits(dev.xatm.protocol.v1.CommitBatch.newBuilder()
                .addRequests(votes(committed, BranchVote.YES, BranchVote.YES).setAgentId("agent-someone-else"))
                .addRequests(votes("not a gtrid", BranchVote.YES, BranchVote.YES))
                .addRequests(votes(vetoed, BranchVote.YES, BranchVote.NO))).build());

        java.util.Map<String, dev.xatm.protocol.v1.CommitAnswer> answers = new java.util.HashMap<>();
        while (answers.size() < 3) {
            ServerMessage m = a.next();
            assertThat(m).as("an answer to each of the three requests").isNotNull();
            if (m.hasCommitAnswer()) {
                answers.put(m.getCommitAnswer().getGtrid(), m.getCommitAnswer());
            }
        }
        assertThat(answers.get(committed).getOutcome().getOutcome()).isEqualTo(Outcome.COMMITTED);
        assertThat(answers.get("not a gtrid").getRefusedCode()).isEqualTo("INVALID_ARGUMENT");
        assertThat(answers.get("not a gtrid").hasOutcome()).isFalse();
        assertThat(answers.get(vetoed).getOutcome().getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        assertThat(txnLog.appended()).filteredOn(rec -> rec.gtrid().equals(committed)).first()
                .isInstanceOfSatisfying(LogRecord.Decision.class, d -> assertThat(d.branches()).extracting(br -> br.agentId())
                        .as("the stream's agent holds the branches").containsOnly(a.agentId));

        a.commitAcks(committed, "b1", "b2");
        await().atMost(Duration.ofSeconds(5)).until(() -> statusOf(committed) == TxnStatus.FINISHED_COMMITTED);
        assertThat(a.commands).as("the caller commits its own branches: no phase command for them")
                .noneMatch(c -> c.getGtrid().equals(committed));
    }

    private static CommitRequest.Builder votes(String g, BranchVote first, BranchVote second) {
        return CommitRequest.newBuilder().setGtrid(g).setName("stream").setTimeoutMs(30_000)
                .addPrepared(dev.xatm.protocol.v1.PreparedBranch.newBuilder().setBqual("b1").setResourceId("db-0").setVote(first))
                .addPrepared(dev.xatm.protocol.v1.PreparedBranch.newBuilder().setBqual("b2").setResourceId("db-1").setVote(second));
    }

    // ---------------------------------------------------------------- three-phase commit of an agent's own branches

    /** Opens {@code a}'s stream and returns its Welcome. */
    private Welcome welcome(FakeAgent a) throws InterruptedException {
        a.open(async);
        a.send(dev.xatm.protocol.v1.AgentMessage.newBuilder().setHello(dev.xatm.protocol.v1.Hello.newBuilder()
                .setAgentId(a.agentId).setInstanceSecret(a.instanceSecret)).build());
        ServerMessage first = a.next();
        assertThat(first).isNotNull();
        return first.getWelcome();
    }

    /** A request carrying answers of agent {@code a}'s branches b1, b2, ... */
    private static CommitRequest held(String g, FakeAgent a, BranchVote... answers) {
        CommitRequest.Builder r = CommitRequest.newBuilder().setGtrid(g).setAgentId(a.agentId).setAgentSecret(a.instanceSecret)
                .setName("held").setTimeoutMs(30_000);
        for (int i = 0; i < answers.length; i++) {
            r.addPrepared(dev.xatm.protocol.v1.PreparedBranch.newBuilder().setBqual("b" + (i + 1)).setResourceId("db-" + i)
                    .setVote(answers[i]));
        }
        return r.build();
    }

    private List<LogRecord> loggedFor(String g) {
        return txnLog.appended().stream().filter(rec -> rec.gtrid().equals(g)).toList();
    }

    @Test
    void threePhaseCommitOfAnAgentsOwnBranchesTakesTwoRequestsAndNothingOnTheStream() throws Exception {
        FakeAgent a = agent("agent-3pc-held", false);
        assertThat(welcome(a).getParticipantCanCommitTimeoutMs()).as("the timer the agent arms when it answers CAN_COMMIT itself")
                .isEqualTo(30_000);
        String g = gtrid();

        var first = client.canCommitHeld(held(g, a, BranchVote.YES, BranchVote.YES));
        assertThat(first.getPreCommit()).isTrue();
        assertThat(first.getParticipantPreCommitTimeoutMs()).isEqualTo(30_000);
        assertThat(loggedFor(g)).singleElement().isInstanceOf(LogRecord.PreCommit.class);
        assertThat(statusOf(g)).isEqualTo(TxnStatus.PRE_COMMITTING);

        OutcomeResponse second = client.preCommitHeld(held(g, a, BranchVote.YES, BranchVote.YES));
        assertThat(second.getOutcome()).isEqualTo(Outcome.COMMITTED);
        assertThat(loggedFor(g)).hasSize(2).last().isInstanceOf(LogRecord.Decision.class);
        a.commitAcks(g, "b1", "b2");
        await().atMost(Duration.ofSeconds(5)).until(() -> statusOf(g) == TxnStatus.FINISHED_COMMITTED);
        assertThat(a.commands).as("no CAN_COMMIT, PRE_COMMIT or COMMIT on the stream").isEmpty();
    }

    @Test
    void threePhaseHeldWithoutItsSecondRequestGetsPreCommitOnTheStream() throws Exception {
        FakeAgent a = agent("agent-3pc-lost", false);
        welcome(a);
        String g = gtrid();
        assertThat(client.canCommitHeld(held(g, a, BranchVote.YES, BranchVote.YES)).getPreCommit()).isTrue();
        // the answer was "lost": no second request. After tm.server.retry-max-ms (400) the stream carries PRE_COMMIT.
        ServerMessage m = a.next();
        assertThat(m).isNotNull();
        assertThat(m.getCommand().getAction()).isEqualTo(PhaseAction.PRE_COMMIT);
        assertThat(m.getCommand().getParticipantTimeoutMs()).isEqualTo(30_000);
    }

    @Test
    void threePhaseHeldNoAtPreCommitIsRolledBackAfterTheAbortedRecord() throws Exception {
        FakeAgent a = agent("agent-3pc-no", false);
        welcome(a);
        String g = gtrid();
        assertThat(client.canCommitHeld(held(g, a, BranchVote.YES, BranchVote.YES)).getPreCommit()).isTrue();
        OutcomeResponse r = client.preCommitHeld(held(g, a, BranchVote.YES, BranchVote.NO));
        assertThat(r.getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        assertThat(loggedFor(g)).extracting(rec -> rec.getClass().getSimpleName()).startsWith("PreCommit", "Aborted");
    }

    @Test
    void threePhaseHeldRefusals() throws Exception {
        FakeAgent a = agent("agent-3pc-refused", false);
        welcome(a);
        String begun = begin();
        assertStatus(() -> client.canCommitHeld(held(begun, a, BranchVote.YES, BranchVote.YES)), Status.Code.FAILED_PRECONDITION,
                "known here already");
        assertStatus(() -> client.preCommitHeld(held(gtrid(), a, BranchVote.YES)), Status.Code.NOT_FOUND, "not known");
        assertStatus(() -> client.canCommitHeld(CommitRequest.newBuilder().setGtrid(gtrid()).setAgentId(a.agentId)
                .setAgentSecret(a.instanceSecret).build()), Status.Code.INVALID_ARGUMENT, "answers are required");
        String fresh = gtrid();
        var no = client.canCommitHeld(held(fresh, a, BranchVote.YES, BranchVote.NO));
        assertThat(no.getPreCommit()).isFalse();
        assertThat(no.getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        assertThat(loggedFor(fresh)).as("a NO at CAN_COMMIT writes nothing").isEmpty();
    }

    // ---------------------------------------------------------------- agent identity: one shared token, many agents

    /** Another agent with the same token votes YES for branches it does not hold: refused, and the holder's NO decides. */
    @Test
    void aSecondAgentWithTheSameTokenCannotVoteForAnotherAgentsBranches() throws Exception {
        FakeAgent holder = agent("agent-id-holder", false).connect(async);
        FakeAgent mallory = agent("agent-id-mallory", false).connect(async);
        String g = begin();
        client.registerBranch(register(g, "b1", "db-0", holder.agentId));
        client.registerBranch(register(g, "b2", "db-1", holder.agentId));
        long refusedBefore = loop.agentRefusals().count(dev.xatm.coordinator.engine.AgentRefusals.Kind.VOTE);
        var outcome = java.util.concurrent.CompletableFuture.supplyAsync(() -> client.commit(CommitRequest.newBuilder().setGtrid(g).build()));
        assertThat(holder.next().getCommand().getAction()).isEqualTo(PhaseAction.PREPARE);
        assertThat(holder.next().getCommand().getAction()).isEqualTo(PhaseAction.PREPARE);

        mallory.vote(g, "b1", BranchVote.YES);
        mallory.vote(g, "b2", BranchVote.YES);
        assertThat(mallory.next().getError().getCode()).isEqualTo("PERMISSION_DENIED");
        assertThat(mallory.next().getError().getCode()).isEqualTo("PERMISSION_DENIED");
        assertThat(statusOf(g)).as("no decision from votes the holder never gave").isEqualTo(TxnStatus.PREPARING);
        assertThat(loop.agentRefusals().count(dev.xatm.coordinator.engine.AgentRefusals.Kind.VOTE)).isEqualTo(refusedBefore + 2);

        holder.vote(g, "b1", BranchVote.NO);
        assertThat(outcome.get(10, TimeUnit.SECONDS).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        assertThat(mallory.commands).isEmpty();
    }

    /** Another agent acknowledges COMMIT for branches it does not hold: refused; the transaction waits for the holder. */
    @Test
    void aSecondAgentWithTheSameTokenCannotAcknowledgeAnotherAgentsBranches() throws Exception {
        FakeAgent holder = agent("agent-ack-holder", false).connect(async);
        FakeAgent mallory = agent("agent-ack-mallory", false).connect(async);
        String g = begin();
        client.registerBranch(register(g, "b1", "db-0", holder.agentId));
        client.registerBranch(register(g, "b2", "db-1", holder.agentId));
        var outcome = java.util.concurrent.CompletableFuture.supplyAsync(() -> client.commit(CommitRequest.newBuilder().setGtrid(g)
                .setWaitForCompletion(true).build()));
        holder.next();
        holder.next();
        holder.vote(g, "b1", BranchVote.YES);
        holder.vote(g, "b2", BranchVote.YES);
        await().atMost(Duration.ofSeconds(5)).until(() -> holder.commands.contains(command(g, "b2", PhaseAction.COMMIT)));

        mallory.ack(g, "b1", PhaseAction.COMMIT);
        mallory.ack(g, "b2", PhaseAction.COMMIT);
        assertThat(mallory.next().getError().getCode()).isEqualTo("PERMISSION_DENIED");
        assertThat(mallory.next().getError().getCode()).isEqualTo("PERMISSION_DENIED");
        assertThat(statusOf(g)).as("not finished by acks for work its holder never did").isEqualTo(TxnStatus.COMMITTING);
        assertThat(outcome).isNotDone();

        holder.commitAcks(g, "b1", "b2");
        assertThat(outcome.get(10, TimeUnit.SECONDS).getOutcome()).isEqualTo(Outcome.COMMITTED);
    }

    /**
     * A Hello naming a live agent from another process (another instance secret) is refused and the live
     * stream keeps the agent's commands; the same process (same secret) replaces its own stream at once.
     */
    @Test
    void aHelloForALiveAgentIsRefusedUnlessItComesFromTheSameProcess() throws Exception {
        FakeAgent holder = agent("agent-hello-holder", false).connect(async);
        FakeAgent impostor = agent("agent-hello-holder", false);
        impostor.instanceSecret = "another-process-secret-0123456789";
        impostor.open(async);
        impostor.send(AgentMessage.newBuilder().setHello(dev.xatm.protocol.v1.Hello.newBuilder().setAgentId(impostor.agentId)
                .setInstanceSecret(impostor.instanceSecret)).build());
        assertThat(impostor.next().getError().getCode()).isEqualTo("ALREADY_EXISTS");
        assertThat(impostor.ended.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
        assertThat(holder.ended).isNotDone();

        // The holder still gets its commands: nothing was stolen.
        String g = begin();
        client.registerBranch(register(g, "b1", "db-0", holder.agentId));
        client.registerBranch(register(g, "b2", "db-1", holder.agentId));
        var outcome = java.util.concurrent.CompletableFuture.supplyAsync(() -> client.commit(CommitRequest.newBuilder().setGtrid(g).build()));
        assertThat(holder.next().getCommand().getAction()).isEqualTo(PhaseAction.PREPARE);
        assertThat(impostor.commands).isEmpty();

        // The same process reconnecting (a half-dead stream after a network cut) takes over at once.
        FakeAgent again = agent("agent-hello-holder", false).connect(async);
        assertThat(holder.ended.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.ABORTED);
        again.vote(g, "b1", BranchVote.NO);
        assertThat(outcome.get(10, TimeUnit.SECONDS).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
    }

    /** RegisterBranch and a commit with votes naming a live agent, without its instance secret: PERMISSION_DENIED, nothing changes. */
    @Test
    void callsNamingAnotherLiveAgentWithoutItsSecretAreRefused() throws Exception {
        FakeAgent holder = agent("agent-call-holder", false).connect(async);
        String g = begin();
        assertStatus(() -> client.registerBranch(RegisterBranchRequest.newBuilder().setGtrid(g).setBqual("b1").setResourceId("db-0")
                .setAgentId(holder.agentId).setAgentSecret("not-the-holders-secret-000").build()), Status.Code.PERMISSION_DENIED,
                "another instance secret");
        String fresh = gtrid();
        assertStatus(() -> client.commit(CommitRequest.newBuilder().setGtrid(fresh).setAgentId(holder.agentId)
                .setAgentSecret("not-the-holders-secret-000").setName("x").setTimeoutMs(30_000)
                .addPrepared(dev.xatm.protocol.v1.PreparedBranch.newBuilder().setBqual("b1").setResourceId("db-0").setVote(BranchVote.YES))
                .build()), Status.Code.PERMISSION_DENIED, "another instance secret");
        assertThat(statusOf(fresh)).isEqualTo(TxnStatus.UNKNOWN);
        assertThat(statusOf(g)).isEqualTo(TxnStatus.ACTIVE);
        assertThat(holder.commands).isEmpty();
    }

    @Test
    void aCommitCallerThatGivesUpLeavesNoWaiterBehind() throws Exception {
        FakeAgent a = agent("agent-slow-a", false).connect(async);
        FakeAgent b = agent("agent-slow-b", false).connect(async);
        String g = begin();
        client.registerBranch(register(g, "b1", "db-0", a.agentId));
        client.registerBranch(register(g, "b2", "db-1", b.agentId));
        int waitingBefore = loop.snapshot().waitingCallers();

        assertStatus(() -> client.withDeadlineAfter(300, TimeUnit.MILLISECONDS).commit(CommitRequest.newBuilder().setGtrid(g).build()),
                Status.Code.DEADLINE_EXCEEDED, "");
        await().atMost(Duration.ofSeconds(5)).until(() -> loop.snapshot().waitingCallers() == waitingBefore);

        // the commit itself goes on: a NO vote rolls it back, and the rollback is acknowledged
        assertThat(a.next().getCommand()).isEqualTo(command(g, "b1", PhaseAction.PREPARE));
        a.vote(g, "b1", BranchVote.NO);
        await().atMost(Duration.ofSeconds(5)).until(() -> b.commands.contains(command(g, "b2", PhaseAction.ROLLBACK)));
        a.ack(g, "b1", PhaseAction.ROLLBACK);
        b.ack(g, "b2", PhaseAction.ROLLBACK);
        await().atMost(Duration.ofSeconds(5)).until(() -> statusOf(g) == TxnStatus.FINISHED_ROLLED_BACK);
    }

    @Test
    void rollbackOfAnActiveTransaction() {
        String g = begin();
        assertThat(client.rollback(RollbackRequest.newBuilder().setGtrid(g).build()).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        assertThat(statusOf(g)).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
    }

    @Test
    void beginReportsTheDeadlineInWallClockTime() {
        long before = System.currentTimeMillis();
        long deadline = client.begin(BeginRequest.newBuilder().setGtrid(gtrid()).setName("OrderService.place").setTimeoutMs(30_000).build())
                .getDeadlineEpochMs();
        assertThat(deadline).isBetween(before + 29_000, System.currentTimeMillis() + 31_000);
    }

    // ---------------------------------------------------------------- helpers

    private FakeAgent agent(String id, boolean autoAnswer) {
        FakeAgent a = new FakeAgent(id, autoAnswer);
        agents.add(a);
        return a;
    }

    private static String gtrid() {
        return "g-" + SEQ.incrementAndGet();
    }

    private String begin() {
        String g = gtrid();
        client.begin(BeginRequest.newBuilder().setGtrid(g).setName("test").build());
        return g;
    }

    private TxnStatus statusOf(String g) {
        return client.getStatus(status(g)).getStatus();
    }

    private static GetStatusRequest status(String g) {
        return GetStatusRequest.newBuilder().setGtrid(g).build();
    }

    private static RegisterBranchRequest register(String g, String bqual, String resource, String agent) {
        return RegisterBranchRequest.newBuilder().setGtrid(g).setBqual(bqual).setResourceId(resource).setAgentId(agent)
                .setAgentSecret(FakeAgent.secretFor(agent)).build();
    }

    private static PhaseCommand command(String g, String bqual, PhaseAction action) {
        return PhaseCommand.newBuilder().setGtrid(g).setBqual(bqual).setAction(action).build();
    }

    private static io.grpc.ClientInterceptor bearer(String token) {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    private static void assertStatus(ThrowableAssert.ThrowingCallable call, Status.Code code, String messagePart) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(String.valueOf(e.getStatus().getDescription())).contains(messagePart);
        });
    }

    private static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("tm-server-test");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
