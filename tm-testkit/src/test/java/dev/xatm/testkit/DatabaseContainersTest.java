package dev.xatm.testkit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The containers' settings, checked without Docker (this project's machines have none to start them). */
class DatabaseContainersTest {
    @Test
    void postgresAllowsPreparedTransactions() {
        var pg = DatabaseContainers.postgres();
        assertThat(DatabaseContainers.POSTGRES_IMAGE).isEqualTo("postgres:16");
        assertThat(pg.getCommandParts()).containsSubsequence("-c", "max_prepared_transactions=100");
        assertThat(pg.getDatabaseName()).isEqualTo("xatm_test");
    }

    @Test
    void mariadbAndMysqlAreTheVersionsOfTheMatrix() {
        // (the containers' own image names are resolved through Docker, so the constants are checked)
        assertThat(DatabaseContainers.MARIADB_IMAGE).isEqualTo("mariadb:11");
        assertThat(DatabaseContainers.MYSQL_IMAGE).isEqualTo("mysql:8.4");
        assertThat(DatabaseContainers.mysql().getUsername()).isEqualTo("xatm");
    }

    @Test
    void mysqlsTestAccountMaySeePreparedBranches() {
        // Without XA_RECOVER_ADMIN, XA RECOVER on MySQL 8 lists nothing and recovery finds no branch.
        assertThat(DatabaseContainers.setUpStatements(TestDb.Kind.MYSQL)).contains("GRANT XA_RECOVER_ADMIN ON *.* TO 'xatm'@'%'");
        assertThat(DatabaseContainers.setUpStatements(TestDb.Kind.MARIADB)).anyMatch(s -> s.contains("xatm_test_b"));
        assertThat(DatabaseContainers.setUpStatements(TestDb.Kind.POSTGRES)).containsExactly("CREATE DATABASE xatm_test_b");
    }
}
