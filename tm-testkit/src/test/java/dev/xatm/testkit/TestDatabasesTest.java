package dev.xatm.testkit;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The environment rules, without any database. */
class TestDatabasesTest {
    @Test
    void missingVariablesSkipOutsideCi() {
        assertThatThrownBy(() -> TestDatabases.fromEnvironment(Map.of("TM_TEST_PG_URL", "jdbc:postgresql://x/y")))
                .isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("TM_TEST_PG_USER").hasMessageContaining("TM_TEST_MYSQL_URL")
                .hasMessageNotContaining("TM_TEST_PG_URL,");
    }

    @Test
    void missingVariablesFailUnderCi() {
        assertThatThrownBy(() -> TestDatabases.fromEnvironment(Map.of("CI", "true")))
                .isInstanceOf(AssertionFailedError.class)
                .hasMessageStartingWith("CI=true but").hasMessageContaining("TM_TEST_MYSQL_USER");
    }

    @Test
    void theEnvironmentWinsThenDockerThenNothing() {
        Map<String, String> full = Map.of("TM_TEST_PG_URL", "jdbc:postgresql://h/d", "TM_TEST_PG_USER", "u",
                "TM_TEST_MYSQL_URL", "jdbc:mariadb://h/d", "TM_TEST_MYSQL_USER", "u");
        assertThat(TestDatabases.source(full, () -> true)).isEqualTo(TestDatabases.Source.ENVIRONMENT);
        assertThat(TestDatabases.source(Map.of(), () -> true)).isEqualTo(TestDatabases.Source.CONTAINERS);
        assertThat(TestDatabases.source(Map.of(), () -> false)).isEqualTo(TestDatabases.Source.MISSING);
        assertThat(TestDatabases.source(Map.of("TM_TEST_CONTAINERS", "false"), () -> true))
                .as("containers switched off").isEqualTo(TestDatabases.Source.MISSING);
        assertThat(TestDatabases.source(Map.of("TM_TEST_PG_URL", "jdbc:postgresql://h/d"), () -> true))
                .as("a half-set environment is reported, not replaced by containers").isEqualTo(TestDatabases.Source.MISSING);
    }

    @Test
    void theSkipLineSaysHowToRunTheTests() {
        assertThat(TestDatabases.skipReason(Map.of())).contains("TM_TEST_PG_URL").contains("Docker").contains(".ci/run --provision-only")
                .doesNotContain("§");
    }

    @Test
    void aPrefixOwnsTheGtridsThatContinueWithASeparator() {
        assertThat(TestDb.hasPrefix("it-7-1", "it-7")).isTrue();
        assertThat(TestDb.hasPrefix("it7:ab.c", "it7")).isTrue();
        assertThat(TestDb.hasPrefix("it-7x-1", "it-7")).as("another prefix that merely starts alike").isFalse();
        assertThat(TestDb.hasPrefix("it-7", "it-7")).isFalse();
        assertThat(TestDb.hasPrefix("xx-1", "it-7")).isFalse();
    }

    @Test
    void uniqueSuffixesDifferAndFitNames() {
        String a = Unique.suffix();
        String b = Unique.suffix();
        assertThat(a).isNotEqualTo(b).matches("[a-z0-9]+");
    }
}
