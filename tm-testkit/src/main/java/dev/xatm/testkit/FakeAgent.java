package dev.xatm.testkit;

import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.Hello;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.Vote;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An agent on a real Connect stream, for tests. With {@code autoAnswer} it behaves like a healthy
 * agent (votes YES to PREPARE, acks DONE to COMMIT / ROLLBACK / COMMIT_ONE_PHASE); without, the
 * test answers by hand. Everything the server sends is recorded.
 *
 * <p>Shared by the coordinator's transport tests and tm-server's admin tests. Thread-safety: the
 * gRPC thread delivers into {@link #received} / {@link #commands} (thread-safe collections), and
 * {@link #send} is synchronized because a stream observer takes one writer at a time while both the
 * test thread and the auto-answering gRPC thread write.
 */
public final class FakeAgent implements StreamObserver<ServerMessage> {
    public final String agentId;
    /** Sent in Hello: {@link #secretFor} of the id, so tests' unary calls can prove the agent. */
    public String instanceSecret;
    private final boolean autoAnswer;
    /** Every message from the server, in arrival order; {@link #next} takes from it. */
    public final BlockingQueue<ServerMessage> received = new LinkedBlockingQueue<>();
    public final List<PhaseCommand> commands = new CopyOnWriteArrayList<>();
    /** Completed with how the server ended the stream. */
    public final CompletableFuture<Status> ended = new CompletableFuture<>();
    /** The server's Welcome, once {@link #connect} returned. */
    public volatile dev.xatm.protocol.v1.Welcome welcome;
    private StreamObserver<AgentMessage> toServer;

    public FakeAgent(String agentId, boolean autoAnswer) {
        this.agentId = agentId;
        this.instanceSecret = secretFor(agentId);
        this.autoAnswer = autoAnswer;
    }

    /**
     * The instance secret test agents send for {@code agentId}: one rule for every test helper, so a
     * unary call made by the test (RegisterBranch, Commit with votes) proves the same agent as the
     * stream.
     */
    public static String secretFor(String agentId) {
        return "test-instance-secret-of-" + agentId;
    }

    /** Opens the stream without saying anything yet. */
    public FakeAgent open(CoordinatorGrpc.CoordinatorStub stub) {
        toServer = stub.connect(this);
        return this;
    }

    /** Opens the stream, sends Hello and waits for Welcome. */
    public FakeAgent connect(CoordinatorGrpc.CoordinatorStub stub) throws InterruptedException {
        open(stub);
        send(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId).setInstanceSecret(instanceSecret)).build());
        ServerMessage first = next();
        if (first == null || !first.hasWelcome()) {
            throw new AssertionError("expected Welcome, got " + first);
        }
        welcome = first.getWelcome();
        return this;
    }

    public synchronized void send(AgentMessage message) {
        toServer.onNext(message);
    }

    public void vote(String gtrid, String bqual, BranchVote vote) {
        send(AgentMessage.newBuilder().setVote(Vote.newBuilder().setGtrid(gtrid).setBqual(bqual).setVote(vote)).build());
    }

    /** A vote that names the command it answers (3PC: CAN_COMMIT or PRE_COMMIT). */
    public void vote(String gtrid, String bqual, BranchVote vote, PhaseAction answering) {
        send(AgentMessage.newBuilder().setVote(Vote.newBuilder().setGtrid(gtrid).setBqual(bqual).setVote(vote)
                .setAnswering(answering)).build());
    }

    /** 3PC: reports an outcome this participant decided on its own when its timer ran out. */
    public void autonomousAck(String gtrid, String bqual, PhaseAction action) {
        send(AgentMessage.newBuilder().setAck(Ack.newBuilder().setGtrid(gtrid).setBqual(bqual).setAction(action)
                .setResult(AckResult.DONE).setAutonomous(true)).build());
    }

    public void ack(String gtrid, String bqual, PhaseAction action) {
        ack(gtrid, bqual, action, AckResult.DONE);
    }

    public void ack(String gtrid, String bqual, PhaseAction action, AckResult result) {
        send(AgentMessage.newBuilder().setAck(Ack.newBuilder().setGtrid(gtrid).setBqual(bqual).setAction(action).setResult(result)).build());
    }

    /** COMMIT done for each bqual of {@code gtrid}, in one AckBatch message. */
    public void commitAcks(String gtrid, String... bquals) {
        dev.xatm.protocol.v1.AckBatch.Builder batch = dev.xatm.protocol.v1.AckBatch.newBuilder();
        for (String bqual : bquals) {
            batch.addAcks(Ack.newBuilder().setGtrid(gtrid).setBqual(bqual).setAction(PhaseAction.COMMIT).setResult(AckResult.DONE));
        }
        send(AgentMessage.newBuilder().setAcks(batch).build());
    }

    /** The next message from the server, or null after 10 s. */
    public ServerMessage next() throws InterruptedException {
        return received.poll(10, TimeUnit.SECONDS);
    }

    public synchronized void close() {
        try {
            toServer.onCompleted();
        } catch (RuntimeException ignored) {
            // already gone
        }
    }

    @Override
    public void onNext(ServerMessage message) {
        received.add(message);
        if (!message.hasCommand()) {
            return;
        }
        PhaseCommand c = message.getCommand();
        commands.add(c);
        if (autoAnswer) {
            if (c.getAction() == PhaseAction.PREPARE) {
                vote(c.getGtrid(), c.getBqual(), BranchVote.YES);
            } else if (c.getAction() == PhaseAction.CAN_COMMIT || c.getAction() == PhaseAction.PRE_COMMIT) {
                vote(c.getGtrid(), c.getBqual(), BranchVote.YES, c.getAction());
            } else {
                ack(c.getGtrid(), c.getBqual(), c.getAction());
            }
        }
    }

    @Override
    public void onError(Throwable t) {
        ended.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
        ended.complete(Status.OK);
    }
}
