package dev.xatm.server.it;

import dev.xatm.protocol.v1.BeginRequest;
import dev.xatm.protocol.v1.BeginResponse;
import dev.xatm.protocol.v1.CommitProtocol;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.RegisterBranchRequest;
import dev.xatm.protocol.v1.RollbackRequest;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.testkit.Channels;
import io.grpc.ManagedChannel;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The TM role of the wire protocol (what {@code @GlobalTransactional} will do): plain unary calls,
 * each with its own deadline, so a test never hangs on a server that stopped answering.
 *
 * <p>Thread-safe (gRPC stubs are).
 */
public final class TmClient implements AutoCloseable {
    private final ManagedChannel channel;
    private final CoordinatorGrpc.CoordinatorBlockingStub stub;
    private final Duration defaultDeadline;

    public TmClient(String target, String token, Duration defaultDeadline) {
        this.channel = Channels.channel(target);
        this.stub = CoordinatorGrpc.newBlockingStub(channel).withInterceptors(Channels.bearer(token));
        this.defaultDeadline = defaultDeadline;
    }

    /** Begin with the server's default protocol (tm.server.default-protocol). */
    public BeginResponse begin(String gtrid, String name, long timeoutMs) {
        return begin(gtrid, name, timeoutMs, CommitProtocol.COMMIT_PROTOCOL_UNSPECIFIED);
    }

    public BeginResponse begin(String gtrid, String name, long timeoutMs, CommitProtocol protocol) {
        return call().begin(BeginRequest.newBuilder().setGtrid(gtrid).setName(name).setTimeoutMs(timeoutMs)
                .setProtocol(protocol).build());
    }

    public void registerBranch(String gtrid, String bqual, String resourceId, String agentId) {
        call().registerBranch(RegisterBranchRequest.newBuilder()
                .setGtrid(gtrid).setBqual(bqual).setResourceId(resourceId).setAgentId(agentId)
                .setAgentSecret(TestAgent.secretFor(agentId)).build());
    }

    public OutcomeResponse commit(String gtrid, boolean waitForCompletion) {
        return commit(gtrid, waitForCompletion, defaultDeadline);
    }

    public OutcomeResponse commit(String gtrid, boolean waitForCompletion, Duration deadline) {
        return call(deadline).commit(CommitRequest.newBuilder().setGtrid(gtrid).setWaitForCompletion(waitForCompletion).build());
    }

    public OutcomeResponse rollback(String gtrid) {
        return call().rollback(RollbackRequest.newBuilder().setGtrid(gtrid).build());
    }

    public TxnStatus status(String gtrid) {
        return call().getStatus(GetStatusRequest.newBuilder().setGtrid(gtrid).build()).getStatus();
    }

    /** After a server restart: retry the connection now instead of after gRPC's growing backoff. */
    public void reconnectNow() {
        channel.resetConnectBackoff();
    }

    private CoordinatorGrpc.CoordinatorBlockingStub call() {
        return call(defaultDeadline);
    }

    private CoordinatorGrpc.CoordinatorBlockingStub call(Duration deadline) {
        return stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        Channels.shutdown(channel);
    }
}
