package dev.xatm.client.autoconfigure;

import dev.xatm.client.GlobalTransactionDefinition;
import dev.xatm.client.GlobalTransactionTemplate;
import dev.xatm.client.TmSystemException;
import dev.xatm.client.coordinator.CoordinatorChannels;
import dev.xatm.client.it.twoservices.coordinator.CoordinatorApplication;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.coordinator.transport.GrpcServer;
import dev.xatm.testkit.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The starter's channels over TLS ({@code tm.client.tls.*}) to a coordinator that requires client
 * certificates (tm-server's listener, in-process, {@code tm.server.tls.client-auth=require}), with
 * certificates generated for this run: a global transaction runs through the starter's channel with
 * our CA and client certificate, and so does a call on a channel opened later for an announced
 * server; a plaintext client, a client without a certificate, a client not trusting the CA and a
 * client expecting another host name are refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientTlsTest {
    static final String TOKEN = "client-tls-token-0123456789";

    @TempDir
    static Path tmp;
    TestCertificates certs;
    ConfigurableApplicationContext coordinator;
    int port;

    @BeforeAll
    void startCoordinator() {
        certs = TestCertificates.generate(tmp.resolve("certs"));
        List<String> args = new ArrayList<>(List.of("--spring.application.name=coordinator", "--tm.client.mode=embedded",
                "--tm.client.embedded.listen=true", "--tm.server.port=0", "--tm.server.bind-address=127.0.0.1",
                "--tm.server.auth-token=" + TOKEN, "--tm.server.file.dir=" + tmp.resolve("tm-data"),
                "--tm.server.tls.bundle=tm", "--tm.server.tls.client-auth=require"));
        certs.serverBundle("tm", true).forEach(p -> args.add("--" + p));
        coordinator = new SpringApplicationBuilder(CoordinatorApplication.class).web(WebApplicationType.NONE).run(args.toArray(String[]::new));
        port = coordinator.getBean(GrpcServer.class).port();
    }

    @AfterAll
    void stopCoordinator() {
        if (coordinator != null) {
            coordinator.close();
        }
    }

    /** An application in remote mode whose tm-server is ours; strict, so the transaction's Begin and Commit are real calls. */
    private ApplicationContextRunner client(String host, String... properties) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class, DataSourceAutoConfiguration.class,
                        TmClientAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=jdbc:h2:mem:client-tls;DB_CLOSE_DELAY=-1",
                        "tm.client.server-address=" + host + ":" + port, "tm.client.auth-token=" + TOKEN,
                        "tm.client.commit-path=strict", "tm.client.call-timeout-ms=3000", "tm.client.startup-check=false")
                .withPropertyValues(properties);
    }

    private String[] bundle(Path ca, boolean certificate, String... more) {
        List<String> p = new ArrayList<>(certs.clientBundle("xatm", ca, certificate));
        p.add("tm.client.tls.bundle=xatm");
        p.addAll(List.of(more));
        return p.toArray(String[]::new);
    }

    private static String globalTransaction(ConfigurableApplicationContext ctx) {
        return ctx.getBean(GlobalTransactionTemplate.class).execute(GlobalTransactionDefinition.DEFAULT, status -> "committed");
    }

    @Test
    void aGlobalTransactionRunsOverMutualTls() {
        client("localhost", bundle(certs.caCertificate(), true)).run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(globalTransaction(ctx)).isEqualTo("committed");
        });
    }

    /** Channels opened later, for the servers the cluster announces, carry the same TLS settings. */
    @Test
    void aChannelOpenedForAnAnnouncedServerUsesTlsToo() {
        client("localhost", bundle(certs.caCertificate(), true)).run(ctx -> {
            var channel = ctx.getBean(CoordinatorChannels.class).open("127.0.0.1:" + port);
            var status = CoordinatorGrpc.newBlockingStub(channel.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .getStatus(GetStatusRequest.newBuilder().setGtrid("g-announced").build());
            assertThat(status.getStatus()).isEqualTo(TxnStatus.UNKNOWN);
        });
    }

    @Test
    void aPlaintextClientIsRefused() {
        client("localhost").run(ctx -> assertThatThrownBy(() -> globalTransaction(ctx)).isInstanceOf(TmSystemException.class));
    }

    @Test
    void aClientWithoutACertificateIsRefused() {
        client("localhost", bundle(certs.caCertificate(), false)).run(ctx ->
                assertThatThrownBy(() -> globalTransaction(ctx)).isInstanceOf(TmSystemException.class));
    }

    @Test
    void aClientThatDoesNotTrustTheServersCaIsRefused() {
        client("localhost", bundle(certs.otherCaCertificate(), true)).run(ctx ->
                assertThatThrownBy(() -> globalTransaction(ctx)).isInstanceOf(TmSystemException.class));
    }

    /** tm.client.tls.authority replaces the dialled host in the certificate check: a name the certificate lacks fails. */
    @Test
    void theAuthorityOverrideIsWhatTheServerCertificateIsCheckedAgainst() {
        client("127.0.0.1", bundle(certs.caCertificate(), true, "tm.client.tls.authority=localhost")).run(ctx ->
                assertThat(globalTransaction(ctx)).isEqualTo("committed"));
        client("127.0.0.1", bundle(certs.caCertificate(), true, "tm.client.tls.authority=tm.example.org")).run(ctx ->
                assertThatThrownBy(() -> globalTransaction(ctx)).isInstanceOf(TmSystemException.class));
    }

    @Test
    void anUndeclaredBundleStopsStartUpNamingIt() {
        client("localhost", "tm.client.tls.bundle=nowhere").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(ctx.getStartupFailure()).hasStackTraceContaining("tm.client.tls.bundle names SSL bundle 'nowhere', which is not declared");
        });
    }
}
