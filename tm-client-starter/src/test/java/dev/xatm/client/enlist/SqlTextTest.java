package dev.xatm.client.enlist;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Which statement texts count as plain queries for the READ_ONLY vote; every doubt must say "may write". */
class SqlTextTest {
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT 1",
            "select id, note from t where id = ?",
            "  \n\tSELECT * FROM t;  ",
            "-- a comment\nSELECT 1",
            "/* hint */ SELECT 1",
            "(SELECT 1) UNION (SELECT 2)",
            "SELECT * FROM t FOR UPDATE",
            "VALUES (1)",
            "SHOW max_prepared_transactions",
            "TABLE t",
            "WITH x AS (SELECT 1) SELECT * FROM x",
    })
    void plainQueriesOnlyRead(String sql) {
        assertThat(SqlText.onlyReads(sql)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "INSERT INTO t VALUES (1)",
            "update t set note = 'x'",
            "DELETE FROM t",
            "MERGE INTO t USING s ON (t.id = s.id) WHEN MATCHED THEN DELETE",
            "CALL p()",
            "CREATE TABLE x (id INT)",
            "SELECT * INTO t2 FROM t",
            "SELECT 1; DELETE FROM t",
            "SELECT 'a;b'",
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
            "WITH u AS (UPDATE t SET note = 'x' RETURNING *) SELECT * FROM u",
            "/*!50000 DELETE FROM t */ SELECT 1",
            "# mysql comment\nSELECT 1",
            "-- unterminated comment",
            "/* unterminated",
            "EXPLAIN ANALYZE DELETE FROM t",
            "",
            "   ",
    })
    void anythingElseMayWrite(String sql) {
        assertThat(SqlText.onlyReads(sql)).isFalse();
    }

    @org.junit.jupiter.api.Test
    void noTextMayWrite() {
        assertThat(SqlText.onlyReads(null)).isFalse();
    }
}
