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
 * One grep for a gtrid over both processes' logs tells the transaction's story: in the application,
 * lines from the business thread and from the agent's workers carry it in the MDC (xatm.xid); in
 * tm-server's output (its default pattern shows the MDC), lines from the gRPC handlers, the
 * coordinator loop and the log writer name it. Strict commit path, so the coordinator drives every
 * phase and the agent's workers run PREPARE and COMMIT.
 */
class XidInLogsIT extends ItSupport {
    private final ListAppender<ILoggingEvent> appLog = new ListAppender<>();
    private Work work;

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
        ConfigurableApplicationContext app = startApp(p);
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
                    .anyMatch(l -> l.contains(" tm-grpc-") && l.endsWith(": Begin request"))
                    .anyMatch(l -> l.contains("oordinator-loop]")) // Spring Boot's pattern keeps a thread name's last 15 characters
                    .anyMatch(l -> l.contains("tm-log-writer]") && l.contains("written and synced"));
        });
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
