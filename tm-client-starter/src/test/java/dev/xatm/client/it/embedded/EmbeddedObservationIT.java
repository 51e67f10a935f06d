package dev.xatm.client.it.embedded;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.tck.TestObservationRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One order-like global transaction across two H2 branches (embedded mode, default one-round-trip
 * commit) makes one tree of observations, so one trace once micrometer-tracing bridges them: the
 * transaction at the root, carrying its gtrid; its commit round trip inside it; each branch's prepare
 * and commit inside that. Observed with Micrometer's in-memory TestObservationRegistry.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmbeddedObservationIT {
    static final String TABLE = "embedded_obs";

    @TempDir
    static Path tmp;
    ConfigurableApplicationContext app;
    TestObservationRegistry observations;

    @Configuration(proxyBeanMethods = false)
    static class InMemoryObservations {
        @Bean
        TestObservationRegistry observationRegistry() {
            return TestObservationRegistry.create();
        }

        /** Spring Boot adds every ObservationHandler bean to the registry, as it would a tracing handler. */
        @Bean
        Stopped stopped() {
            return new Stopped();
        }
    }

    /** Every observation that stopped, in order. */
    static final class Stopped implements ObservationHandler<Observation.Context> {
        final List<Observation.Context> contexts = new CopyOnWriteArrayList<>();

        @Override
        public boolean supportsContext(Observation.Context context) {
            return true;
        }

        @Override
        public void onStop(Observation.Context context) {
            contexts.add(context);
        }
    }

    @BeforeAll
    void startApp() throws Exception {
        H2File a = new H2File(tmp, "a");
        H2File b = new H2File(tmp, "b");
        a.createTable(TABLE);
        b.createTable(TABLE);
        Map<String, Object> p = EmbeddedH2IT.embeddedProperties(tmp.resolve("tm-data"), a, b);
        p.put("it.table", TABLE);
        app = EmbeddedH2IT.start(p, EmbeddedApp.class, InMemoryObservations.class);
        observations = app.getBean(TestObservationRegistry.class);
    }

    @AfterAll
    void stop() {
        if (app != null) {
            app.close();
        }
    }

    @Test
    void oneTransactionWithTwoBranchesIsOneTreeOfObservations() {
        String gtrid = app.getBean(EmbeddedWork.class).writeBoth(1, 2);

        List<Observation.Context> mine = app.getBean(Stopped.class).contexts.stream()
                .filter(c -> c.getName().startsWith("xatm.")).filter(c -> gtrid.equals(value(c, "xatm.xid"))).toList();
        List<Observation.Context> roots = mine.stream().filter(c -> c.getName().equals("xatm.transaction")).toList();
        assertThat(roots).hasSize(1);
        Observation.Context root = roots.get(0);
        assertThat(root.getParentObservation()).as("the transaction starts the trace here").isNull();
        assertThat(value(root, "protocol")).isEqualTo("2PC");
        assertThat(root.getError()).isNull();

        List<Observation.Context> commits = mine.stream().filter(c -> c.getName().equals("xatm.transaction.commit")).toList();
        assertThat(commits).hasSize(1);
        assertThat(commits.get(0).getParentObservation().getContextView()).isSameAs(root);

        List<Observation.Context> branches = mine.stream().filter(c -> c.getName().equals("xatm.transaction.branch")).toList();
        assertThat(branches).extracting(c -> value(c, "command")).containsExactlyInAnyOrder("prepare", "prepare", "commit", "commit");
        for (Observation.Context branch : branches) {
            assertThat(rootOf(branch)).as(branch.getContextualName() + " belongs to the transaction's tree").isSameAs(root);
        }
        io.micrometer.observation.tck.TestObservationRegistryAssert.assertThat(observations).doesNotHaveAnyRemainingCurrentObservation();
    }

    private static Object rootOf(Observation.Context c) {
        Observation.ContextView at = c;
        while (at instanceof Observation.Context ctx && ctx.getParentObservation() != null) {
            at = ctx.getParentObservation().getContextView();
        }
        return at;
    }

    private static String value(Observation.Context c, String key) {
        var kv = c.getLowCardinalityKeyValue(key);
        if (kv == null) {
            kv = c.getHighCardinalityKeyValue(key);
        }
        return kv == null ? null : kv.getValue();
    }
}
