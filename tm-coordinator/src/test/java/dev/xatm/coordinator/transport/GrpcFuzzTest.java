package dev.xatm.coordinator.transport;

import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.TxnStatus;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AckBatch;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BeginRequest;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.Hello;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.MembersRequest;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PreparedBranch;
import dev.xatm.protocol.v1.RegisterBranchRequest;
import dev.xatm.protocol.v1.ResumeRequest;
import dev.xatm.protocol.v1.RollbackRequest;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.Vote;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.coordinator.engine.MonotonicClock;
import dev.xatm.coordinator.engine.StateMachine;
import dev.xatm.coordinator.cluster.Cluster;
import dev.xatm.coordinator.log.FileTxnLog;
import dev.xatm.testkit.FuzzTally;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile input at the gRPC service, in-process against the real {@link CoordinatorService}, the real
 * core in its {@link CoordinatorLoop} and the real file log: every RPC with random field values
 * (empty, oversize, non-ASCII and control characters, unknown enum numbers, any timeout), and
 * Connect streams of random messages in random order (votes and acks before Hello, Hello twice,
 * empty messages, batches). Every call ends with a deliberate status (OK or a refusal such as
 * INVALID_ARGUMENT, never UNKNOWN or INTERNAL from an uncaught exception) within its deadline, every
 * stream ends when the agent ends it, the coordinator never halts, and two transactions committed
 * before the barrage (one finished, one still waiting for its branch) stay committed.
 */
class GrpcFuzzTest {
    private static final FuzzTally UNARY = new FuzzTally("grpc (unary calls)", "status");
    private static final FuzzTally STREAMS = new FuzzTally("grpc (Connect streams)", "outcome");
    private static final String TOKEN = "fuzz-client-token-0123456789";
    /** What the service may answer: anything it decides to say, nothing an uncaught exception says for it. */
    private static final Set<Status.Code> DELIBERATE = EnumSet.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND,
            Status.Code.ALREADY_EXISTS, Status.Code.PERMISSION_DENIED, Status.Code.FAILED_PRECONDITION, Status.Code.RESOURCE_EXHAUSTED, Status.Code.ABORTED);
    /** A transaction with a durable COMMIT decision: only these statuses keep that decision. */
    private static final Set<TxnStatus> COMMITTED = EnumSet.of(TxnStatus.COMMITTING, TxnStatus.FINISHED_COMMITTED,
            TxnStatus.FINISHED_HEURISTIC, TxnStatus.FINISHED_HEURISTIC_HAZARD);

    private static Path dir;
    private static FileTxnLog txnLog;
    private static CoordinatorLoop loop;
    private static Server server;
    private static ManagedChannel channel;
    private static ExecutorService executor;
    private static final List<Integer> HALTS = new CopyOnWriteArrayList<>();
    private static ClusterId cluster;
    /** Committed and finished before the barrage. */
    private static String finished;
    /** Committed, its branch's agent never acknowledges: COMMITTING through the whole barrage. */
    private static String committing;
    private static StreamObserver<AgentMessage> holder;
    private static final Logger ROOT = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private static Level rootLevel;

    @BeforeContainer
    static void start() throws Exception {
        // 20,000 cases at DEBUG would put megabytes of gRPC and Netty chatter into the test report
        rootLevel = ROOT.getLevel();
        ROOT.setLevel(Level.INFO);
        dir = Files.createTempDirectory("grpc-fuzz");
        txnLog = new FileTxnLog(dir, FileTxnLog.Settings.defaults());
        cluster = txnLog.clusterId(Optional.empty());
        AgentRegistry registry = new AgentRegistry();
        // a short prepare timeout, so a fuzzed commit of a branch nobody holds ends within the calls' deadline
        CoordinatorConfig config = new CoordinatorConfig(2_000, 100, 400, 64, 100_000, 10_000).withClusterId(cluster.value());
        loop = new CoordinatorLoop(StateMachine.twoPhase(config), txnLog, registry, MonotonicClock.system(), HALTS::add, 20, 10_000);
        loop.start();
        CoordinatorService service = new CoordinatorService(loop, registry, "fuzz-server", 60_000, 3_600_000,
                Cluster.SINGLE, cluster);
        executor = Executors.newFixedThreadPool(4);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).executor(executor).maxInboundMessageSize(65_536)
                .addService(ServerInterceptors.intercept(service, new AuthInterceptor(TOKEN))).build().start();
        Metadata auth = new Metadata();
        auth.put(AuthInterceptor.AUTHORIZATION, "Bearer " + TOKEN);
        channel = InProcessChannelBuilder.forName(name).intercept(MetadataUtils.newAttachHeadersInterceptor(auth)).build();

        finished = cluster.head("fuzz") + "finished";
        committing = cluster.head("fuzz") + "committing";
        holder = commitWithAgent("agent-ok", finished, true);
        commitWithAgent("agent-holder", committing, false);
        assertThat(loop.status(finished).get(5, TimeUnit.SECONDS)).isIn(TxnStatus.FINISHED_COMMITTED, TxnStatus.FINISHED_HEURISTIC);
        assertThat(loop.status(committing).get(5, TimeUnit.SECONDS)).isEqualTo(TxnStatus.COMMITTING);
    }

    @AfterContainer
    static void stop() throws Exception {
        System.out.println(UNARY.summary());
        System.out.println(STREAMS.summary());
        if (holder != null) {
            holder.onCompleted();
        }
        channel.shutdownNow();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        executor.shutdownNow();
        loop.stop();
        txnLog.close();
        try (var files = Files.walk(dir)) {
            files.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        ROOT.setLevel(rootLevel);
    }

    // ---------------------------------------------------------------- properties

    @Property(tries = 10_000, shrinking = ShrinkingMode.BOUNDED)
    void everyCallEndsWithADeliberateStatus(@ForAll("calls") Call call) throws Exception {
        UNARY.run(() -> {
            CoordinatorGrpc.CoordinatorBlockingStub stub = CoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
            Status status;
            try {
                call.invoke(stub);
                status = Status.OK;
            } catch (StatusRuntimeException e) {
                status = e.getStatus();
            }
            assertThat(status.getCode()).as("%s answered %s", call, status).isIn(DELIBERATE);
            assertThat(String.valueOf(status.getDescription())).doesNotContain("Exception").doesNotContain("\tat ");
            decisionsHold();
            return call.rpc() + " " + status.getCode();
        });
    }

    @Property(tries = 10_000, shrinking = ShrinkingMode.BOUNDED)
    void everyStreamEndsCleanlyWhateverItsMessages(@ForAll("scripts") List<AgentMessage> script) throws Exception {
        STREAMS.run(() -> {
            List<ServerMessage> received = new CopyOnWriteArrayList<>();
            AtomicReference<Status> end = new AtomicReference<>();
            CountDownLatch ended = new CountDownLatch(1);
            StreamObserver<AgentMessage> toServer = CoordinatorGrpc.newStub(channel).connect(new StreamObserver<>() {
                public void onNext(ServerMessage m) {
                    received.add(m);
                }

                public void onError(Throwable t) {
                    end.set(Status.fromThrowable(t));
                    ended.countDown();
                }

                public void onCompleted() {
                    end.set(Status.OK);
                    ended.countDown();
                }
            });
            for (AgentMessage m : script) {
                toServer.onNext(m);
            }
            toServer.onCompleted();
            assertThat(ended.await(5, TimeUnit.SECONDS)).as("the stream of %s ended", script).isTrue();
            assertThat(end.get().getCode()).as("the stream of %s ended with %s", script, end.get()).isIn(DELIBERATE);
            for (ServerMessage m : received) {
                if (m.hasError()) {
                    assertThat(m.getError().getCode()).isNotIn("INTERNAL", "UNKNOWN");
                    assertThat(m.getError().getMessage()).doesNotContain("Exception");
                }
            }
            decisionsHold();
            boolean refusedHello = received.stream().anyMatch(m -> m.hasError()) && end.get().getCode() != Status.Code.OK;
            return end.get().getCode() + (refusedHello ? " (refused)" : "");
        });
    }

    /**
     * The core is still running and neither transaction committed before the barrage lost its decision.
     * A heuristic status keeps the COMMIT decision (it reports what a database says it did). Votes and
     * acknowledgements for the two transactions' own branches are refused from every stream but their
     * holders', which stay open. A heuristic reported for a bqual the transaction never had is still
     * taken and holds the finished transaction for an operator: a real agent does that when its branch's
     * registration was lost (a 3PC participant that then decided on its own), and the core cannot tell
     * the two apart; it never changes the decision.
     */
    private static void decisionsHold() throws Exception {
        assertThat(HALTS).as("the coordinator halted").isEmpty();
        assertThat(loop.status(finished).get(5, TimeUnit.SECONDS)).isIn(TxnStatus.FINISHED_COMMITTED, TxnStatus.FINISHED_HEURISTIC);
        assertThat(loop.status(committing).get(5, TimeUnit.SECONDS)).isIn(COMMITTED);
    }

    // ---------------------------------------------------------------- unary calls

    /** One RPC with its request; {@link #invoke} sends it and returns its answer. */
    record Call(String rpc, Object request, Invoker invoker) {
        void invoke(CoordinatorGrpc.CoordinatorBlockingStub stub) {
            invoker.invoke(stub);
        }

        @Override
        public String toString() {
            String text = String.valueOf(request);
            return rpc + " " + (text.length() > 300 ? text.substring(0, 300) + "..." : text);
        }
    }

    interface Invoker {
        void invoke(CoordinatorGrpc.CoordinatorBlockingStub stub);
    }

    @Provide
    Arbitrary<Call> calls() {
        Arbitrary<BeginRequest> begin = Combinators.combine(gtrids(false), texts(), timeouts(), enumNumbers())
                .as((g, n, t, p) -> BeginRequest.newBuilder().setGtrid(g).setName(n).setTimeoutMs(t).setProtocolValue(p).build());
        Arbitrary<RegisterBranchRequest> register = Combinators.combine(gtrids(false), bquals(), names(), names())
                .as((g, b, r, a) -> RegisterBranchRequest.newBuilder().setGtrid(g).setBqual(b).setResourceId(r).setAgentId(a).build());
        Arbitrary<PreparedBranch> prepared = Combinators.combine(bquals(), names(), enumNumbers())
                .as((b, r, v) -> PreparedBranch.newBuilder().setBqual(b).setResourceId(r).setVoteValue(v).build());
        Arbitrary<CommitRequest> commit = Combinators.combine(gtrids(false), Arbitraries.of(true, false), prepared.list().ofMaxSize(4),
                        names(), texts(), timeouts())
                .as((g, w, p, a, n, t) -> CommitRequest.newBuilder().setGtrid(g).setWaitForCompletion(w).addAllPrepared(p)
                        .setAgentId(a).setName(n).setTimeoutMs(t).build());
        Arbitrary<Inquiry> inquiry = Combinators.combine(gtrids(true), bquals(), names())
                .as((g, b, r) -> Inquiry.newBuilder().setGtrid(g).setBqual(b).setResourceId(r).build());
        Arbitrary<ResumeRequest> resume = Arbitraries.oneOf(
                inquiry.list().ofMaxSize(4).map(l -> ResumeRequest.newBuilder().addAllBranches(l).build()),
                // over the per-call limit of inquiries
                Arbitraries.integers().between(CoordinatorService.RESUME_MAX + 1, CoordinatorService.RESUME_MAX + 50)
                        .map(n -> ResumeRequest.newBuilder().addAllBranches(Collections.nCopies(n,
                                Inquiry.newBuilder().setGtrid("g").setBqual("b").setResourceId("r").build())).build()));
        return Arbitraries.oneOf(
                begin.map(r -> new Call("Begin", r, s -> s.begin(r))),
                register.map(r -> new Call("RegisterBranch", r, s -> s.registerBranch(r))),
                commit.map(r -> new Call("Commit", r, s -> s.commit(r))),
                gtrids(true).map(g -> RollbackRequest.newBuilder().setGtrid(g).build()).map(r -> new Call("Rollback", r, s -> s.rollback(r))),
                gtrids(true).map(g -> GetStatusRequest.newBuilder().setGtrid(g).build()).map(r -> new Call("GetStatus", r, s -> s.getStatus(r))),
                Arbitraries.just(MembersRequest.getDefaultInstance()).map(r -> new Call("Members", r, s -> s.members(r))),
                resume.map(r -> new Call("Resume", r, s -> s.resume(r))));
    }

    // ---------------------------------------------------------------- streams

    @Provide
    Arbitrary<List<AgentMessage>> scripts() {
        // a random agent id with a random (often invalid) instance secret
        Arbitrary<AgentMessage> hello = Combinators.combine(names(), texts())
                .as((a, secret) -> AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(a).setInstanceSecret(secret)).build());
        Arbitrary<Ack> ack = Combinators.combine(gtrids(true), bquals(), enumNumbers(), enumNumbers(), Arbitraries.of(true, false))
                .as((g, b, a, r, auto) -> Ack.newBuilder().setGtrid(g).setBqual(b).setActionValue(a).setResultValue(r).setAutonomous(auto).build());
        Arbitrary<AgentMessage> vote = Combinators.combine(gtrids(true), bquals(), enumNumbers(), texts(), enumNumbers())
                .as((g, b, v, d, a) -> AgentMessage.newBuilder().setVote(Vote.newBuilder().setGtrid(g).setBqual(b).setVoteValue(v)
                        .setDetail(d).setAnsweringValue(a)).build());
        Arbitrary<AgentMessage> inquiry = Combinators.combine(gtrids(true), bquals(), names())
                .as((g, b, r) -> AgentMessage.newBuilder().setInquiry(Inquiry.newBuilder().setGtrid(g).setBqual(b).setResourceId(r)).build());
        Arbitrary<AgentMessage> any = Arbitraries.frequencyOf(
                Tuple.of(2, hello),
                Tuple.of(4, vote),
                Tuple.of(4, ack.map(a -> AgentMessage.newBuilder().setAck(a).build())),
                Tuple.of(2, ack.list().ofMaxSize(5).map(l -> AgentMessage.newBuilder().setAcks(AckBatch.newBuilder().addAllAcks(l)).build())),
                Tuple.of(3, inquiry),
                Tuple.of(1, Arbitraries.just(AgentMessage.getDefaultInstance())));
        // Mostly a proper Hello first (so the messages after it reach the core), sometimes anything first.
        Arbitrary<AgentMessage> properHello = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(8)
                .map(a -> AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId("fuzz-" + a).setInstanceSecret(secretOf("fuzz-" + a)))
                        .build());
        return Arbitraries.frequencyOf(
                Tuple.of(4, Combinators.combine(properHello, any.list().ofMaxSize(6)).as((h, rest) -> prepend(h, rest))),
                Tuple.of(1, any.list().ofMaxSize(6)));
    }

    // ---------------------------------------------------------------- field values

    /** Valid ids of this deployment (new and the two committed ones), another deployment's, owner-tagged ones, and garbage. */
    private static Arbitrary<String> gtrids(boolean includeCommitting) {
        Arbitrary<String> suffix = Arbitraries.strings().withCharRange('a', 'z').withCharRange('0', '9').ofMinLength(1).ofMaxLength(12);
        return Arbitraries.frequencyOf(
                Tuple.of(4, suffix.map(s -> cluster.head("fuzz") + s)),
                Tuple.of(2, Arbitraries.of(finished)),
                Tuple.of(includeCommitting ? 2 : 0, Arbitraries.of(committing)),
                Tuple.of(1, suffix.map(s -> "fuzz:othercl-" + s)),
                Tuple.of(1, suffix.map(s -> cluster.head("fuzz") + s + ":3.k2")),
                Tuple.of(1, suffix),
                Tuple.of(3, garbage()));
    }

    private static Arbitrary<String> bquals() {
        return Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.of("b1", "b2")),
                Tuple.of(3, Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(10)),
                Tuple.of(2, garbage()));
    }

    /** Agent and resource ids: valid names, the agent holding the committed transaction's branch, garbage. */
    private static Arbitrary<String> names() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(20)),
                Tuple.of(1, Arbitraries.of("agent-ok", "agent-holder", "db-b1")),
                Tuple.of(2, garbage()));
    }

    /** Free text (transaction names, vote details): anything, including control characters and oversize. */
    private static Arbitrary<String> texts() {
        return Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(40), garbage());
    }

    private static Arbitrary<String> garbage() {
        return Arbitraries.oneOf(
                Arbitraries.just(""),
                Arbitraries.strings().ofMinLength(1).ofMaxLength(80),                    // any Unicode, controls included
                Arbitraries.strings().withChars(' ', '\t', '\n', '\u0000', '\u202E', '\uFFFF').ofMinLength(1).ofMaxLength(5),
                Arbitraries.integers().between(65, 300).map("x"::repeat),                // just over the id limits
                Arbitraries.integers().between(20_000, 70_000).map("y"::repeat));        // around the 64 KiB message limit
    }

    /** Known numbers, unknown ones and extremes: proto3 enums keep any number. */
    private static Arbitrary<Integer> enumNumbers() {
        return Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.integers().between(0, 7)),
                Tuple.of(1, Arbitraries.integers()));
    }

    private static Arbitrary<Long> timeouts() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(0L)),
                Tuple.of(2, Arbitraries.longs().between(1, 10_000)),
                Tuple.of(2, Arbitraries.longs()));
    }

    // ---------------------------------------------------------------- set-up helpers

    /**
     * Runs one transaction of two branches (one branch would take the one-phase path, which logs no
     * decision) to its COMMIT decision the way a real agent does: Hello, Begin, RegisterBranch twice,
     * Commit, YES votes for PREPARE, and (if {@code acknowledge}) DONE for COMMIT. Returns the agent's
     * stream, which stays open.
     */
    private static StreamObserver<AgentMessage> commitWithAgent(String agentId, String gtrid, boolean acknowledge) throws Exception {
        AtomicReference<StreamObserver<AgentMessage>> self = new AtomicReference<>();
        CountDownLatch welcomed = new CountDownLatch(1);
        StreamObserver<AgentMessage> stream = CoordinatorGrpc.newStub(channel).connect(new StreamObserver<>() {
            public void onNext(ServerMessage m) {
                if (m.hasWelcome()) {
                    welcomed.countDown();
                } else if (m.hasCommand() && m.getCommand().getGtrid().equals(gtrid)) {
                    String bqual = m.getCommand().getBqual();
                    if (m.getCommand().getAction() == PhaseAction.PREPARE) {
                        send(self, AgentMessage.newBuilder().setVote(Vote.newBuilder().setGtrid(gtrid).setBqual(bqual)
                                .setVote(dev.xatm.protocol.v1.BranchVote.YES)).build());
                    } else if (acknowledge || m.getCommand().getAction() == PhaseAction.ROLLBACK) {
                        // (a ROLLBACK only if the machine was too slow for the prepare timeout: the set-up then fails clearly)
                        send(self, AgentMessage.newBuilder().setAck(Ack.newBuilder().setGtrid(gtrid).setBqual(bqual)
                                .setAction(m.getCommand().getAction()).setResult(dev.xatm.protocol.v1.AckResult.DONE)).build());
                    }
                }
            }

            public void onError(Throwable t) {}

            public void onCompleted() {}
        });
        self.set(stream);
        stream.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId).setInstanceSecret(secretOf(agentId))).build());
        assertThat(welcomed.await(10, TimeUnit.SECONDS)).isTrue();
        CoordinatorGrpc.CoordinatorBlockingStub stub = CoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        stub.begin(BeginRequest.newBuilder().setGtrid(gtrid).build());
        for (String bqual : List.of("b1", "b2")) {
            stub.registerBranch(RegisterBranchRequest.newBuilder().setGtrid(gtrid).setBqual(bqual).setResourceId("db-" + bqual)
                    .setAgentId(agentId).setAgentSecret(secretOf(agentId)).build());
        }
        stub.commit(CommitRequest.newBuilder().setGtrid(gtrid).setWaitForCompletion(acknowledge).build());
        return stream;
    }

    /** The instance secret an agent of this test proves itself with (16 to 128 printable characters). */
    private static String secretOf(String agentId) {
        return "instance-secret-of-" + agentId;
    }

    private static synchronized void send(AtomicReference<StreamObserver<AgentMessage>> stream, AgentMessage message) {
        stream.get().onNext(message);
    }

    private static <T> List<T> prepend(T first, List<T> rest) {
        List<T> all = new ArrayList<>(rest.size() + 1);
        all.add(first);
        all.addAll(rest);
        return all;
    }
}
