package dev.xatm.client.it;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.context.ConfigurableApplicationContext;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What an operator sees of one committed transaction. Logs: one grep for a gtrid over both processes' logs tells the transaction's story: in the application,
 * lines from the business thread and from the agent's workers carry it in the MDC (xatm.xid); in
 * tm-server's output (its default pattern shows the MDC), lines from the gRPC handlers, the
 * coordinator loop and the log writer name it. Strict commit path, so the coordinator drives every
 * phase and the agent's workers run PREPARE and COMMIT. Metrics: both sides' meters, all named
 * {@code xatm.*}, count it.
 */
class OneTransactionObservedIT extends ItSupport {
    private final ListAppender<ILoggingEvent> appLog = new ListAppender<>();
    private Work work;
    private ConfigurableApplicationContext app;

    @Override
    Map<String, String> serverProperties() {
        Map<String, String> p = super.serverProperties();
        p.put("logging.level.dev.xatm", "DEBUG");
        return p;
    }

    @BeforeAll
    void startApp() {
        Map<String, Object> p = baseProperties("logs");
        withPg(p);
        withMaria(p);
        p.put("tm.client.commit-path", "strict");
        p.put("logging.level.dev.xatm", "DEBUG");
        app = startApp(p);
        work = app.getBean(Work.class);
        appLog.start();
        root().addAppender(appLog);
    }

    @AfterAll
    void detach() {
        root().detachAppender(appLog);
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    @Test
    void bothProcessesLogTheTransactionUnderItsGtrid() {
        String gtrid = work.writeBoth(newId(), newId());

        await("the agent's COMMIT lines").atMost(CONVERGE).until(() -> threadsLogging(gtrid).stream().filter(t -> t.startsWith("tm-agent-"))
                .count() >= 1 && messagesFor(gtrid).stream().anyMatch(m -> m.startsWith("COMMIT of branch")));
        assertThat(threadsLogging(gtrid)).as("application threads that logged under the gtrid")
                .contains(Thread.currentThread().getName())
                .anyMatch(t -> t.startsWith("tm-agent-"));
        assertThat(messagesFor(gtrid)).anyMatch(m -> m.startsWith("PREPARE of branch"));
        // nothing logged after the transaction on this thread keeps its gtrid (pooled threads)
        assertThat(org.slf4j.MDC.get("xatm.xid")).isNull();

        await("tm-server's lines").atMost(CONVERGE).untilAsserted(() -> {
            List<String> serverLines = server.output().lines().filter(l -> l.contains(gtrid)).toList();
            assertThat(serverLines).as("tm-server lines naming " + gtrid)
                    // the gtrid is only in the MDC column of these lines: the messages do not name it
                    // on the gRPC transport thread that decoded the call (Netty's "grpc-default-worker-ELG-x-y")
                    .anyMatch(l -> l.contains("-ELG-") && l.endsWith(": Begin request"))
                    .anyMatch(l -> l.contains("oordinator-loop]")) // Spring Boot's pattern keeps a thread name's last 15 characters
                    .anyMatch(l -> l.contains("tm-log-writer]") && l.contains("written and synced"));
        });
    }

    @Test
    void bothSidesCountItUnderXatmNames() throws Exception {
        var registry = app.getBean(io.micrometer.core.instrument.MeterRegistry.class);
        work.writeBoth(newId(), newId());

        await("the agent's commits timed").atMost(CONVERGE).until(() -> registry.find("xatm.branch.commit").timer() != null
                && registry.find("xatm.branch.commit").timer().count() >= 2);
        assertThat(registry.get("xatm.client.transactions.begun").tag("protocol", "2PC").counter().count()).isGreaterThanOrEqualTo(1);
        assertThat(registry.get("xatm.client.transactions").tag("outcome", "committed").tag("protocol", "2PC").counter().count())
                .isGreaterThanOrEqualTo(1);
        assertThat(registry.get("xatm.client.commit").timer().count()).isGreaterThanOrEqualTo(1);
        assertThat(registry.get("xatm.branch.prepare").timer().count()).isGreaterThanOrEqualTo(2);
        assertThat(registry.find("tm.client.transactions").meters()).as("the old names are gone").isEmpty();

        // tm-server's metrics need an admin token (any role); the generated one is read from its file
        String scrape = http("http://127.0.0.1:" + server.httpPort() + "/actuator/prometheus", server.adminToken());
        assertThat(metric(scrape, "xatm_coordinator_decisions_total{outcome=\"committed\",protocol=\"2PC\"}")).isGreaterThanOrEqualTo(1);
        assertThat(metric(scrape, "xatm_coordinator_agents_connected")).isGreaterThanOrEqualTo(1);
        assertThat(metric(scrape, "xatm_log_append_seconds_count")).isGreaterThanOrEqualTo(1);
        assertThat(metric(scrape, "xatm_log_fsync_seconds_count")).isGreaterThanOrEqualTo(1);
        assertThat(metric(scrape, "xatm_log_batches_total")).isGreaterThanOrEqualTo(1);
        assertThat(metric(scrape, "xatm_log_records_total")).isGreaterThanOrEqualTo(1);
        assertThat(metric(scrape, "xatm_coordinator_transactions_in_doubt")).isZero();
        assertThat(metric(scrape, "xatm_cluster_members")).isZero();
        assertThat(scrape).contains("xatm_coordinator_transactions_live{phase=\"PREPARE\",protocol=\"2PC\"}");
    }

    private static String http(String url, String bearer) throws Exception {
        var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                        .header("Authorization", "Bearer " + bearer).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    /** The value of one sample line of a Prometheus scrape, by its exact name and labels. */
    private static double metric(String scrape, String nameAndLabels) {
        return scrape.lines().filter(l -> l.startsWith(nameAndLabels + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(nameAndLabels.length() + 1).trim()))
                .orElseThrow(() -> new AssertionError(nameAndLabels + " not in the scrape:\n" + scrape));
    }

    private List<String> threadsLogging(String gtrid) {
        return events(gtrid).stream().map(ILoggingEvent::getThreadName).distinct().toList();
    }

    private List<String> messagesFor(String gtrid) {
        return events(gtrid).stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    private List<ILoggingEvent> events(String gtrid) {
        synchronized (appLog.list) {
            return appLog.list.stream().filter(e -> gtrid.equals(e.getMDCPropertyMap().get("xatm.xid"))).toList();
        }
    }
}
