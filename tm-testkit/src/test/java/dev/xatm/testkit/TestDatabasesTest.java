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
