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
            // locking reads: their locks must last until the global transaction ends, so no READ_ONLY vote
            "SELECT * FROM t FOR UPDATE",
            "select * from t where id = 1 for update nowait",
            "SELECT * FROM t FOR SHARE",
            "SELECT * FROM t FOR NO KEY UPDATE",
            "SELECT * FROM t FOR KEY SHARE",
            "SELECT * FROM t LOCK IN SHARE MODE",
            "(SELECT * FROM t) FOR UPDATE",
            "WITH x AS (SELECT * FROM t FOR UPDATE) SELECT * FROM x",
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
