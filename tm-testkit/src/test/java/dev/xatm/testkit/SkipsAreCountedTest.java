package dev.xatm.testkit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * With no database to be had, a {@link RequiresDatabases} class counts every test as skipped, and its
 * {@code @BeforeAll} (which would take the databases) does not run. Runs the class through the
 * JUnit engine as the build does, with the environment judged empty.
 */
class SkipsAreCountedTest {
    static volatile boolean beforeAllRan;

    @Test
    void everyTestOfADatabaseClassIsReportedSkipped() {
        beforeAllRan = false;
        var results = EngineTestKit.engine("junit-jupiter")
                .configurationParameter(DatabasesCondition.ENVIRONMENT_PARAMETER, "empty")
                .selectors(selectClass(NeedsDatabases.class))
                .execute();
        // the class is skipped as a whole; the build tools count its three tests as skipped
        results.containerEvents().skipped().assertThatEvents().hasSize(1);
        assertThat(results.containerEvents().skipped().list().get(0).getPayload(String.class))
                .hasValueSatisfying(reason -> assertThat(reason).contains("TM_TEST_PG_URL"));
        results.testEvents().assertStatistics(s -> s.started(0).failed(0));
        assertThat(beforeAllRan).isFalse();
    }

    @Test
    void aParameterizedClassReportsEachTestOfEachInvocationSkipped() {
        var results = EngineTestKit.engine("junit-jupiter")
                .configurationParameter(DatabasesCondition.ENVIRONMENT_PARAMETER, "empty")
                .selectors(selectClass(NeedsDatabasesPerProtocol.class))
                .execute();
        results.testEvents().assertStatistics(s -> s.skipped(4).started(0).failed(0));
    }

    @RequiresDatabases
    @org.junit.jupiter.params.ParameterizedClass
    @org.junit.jupiter.params.provider.ValueSource(strings = {"2PC", "3PC"})
    static class NeedsDatabasesPerProtocol {
        @org.junit.jupiter.params.Parameter
        String protocol;

        @Test
        void one() {
            TestDatabases.require();
        }

        @Test
        void two() {
            TestDatabases.require();
        }
    }

    @RequiresDatabases
    static class NeedsDatabases {
        @BeforeAll
        static void takeDatabases() {
            beforeAllRan = true;
            TestDatabases.require();
        }

        @Test
        void one() {
        }

        @Test
        void two() {
        }

        @Test
        void three() {
        }
    }
}
