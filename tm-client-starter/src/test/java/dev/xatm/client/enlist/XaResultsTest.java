package dev.xatm.client.enlist;

import dev.xatm.core.participant.XaOp;
import dev.xatm.core.participant.XaResult;
import org.junit.jupiter.api.Test;

import javax.transaction.xa.XAException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;

import static dev.xatm.client.enlist.XaErrorClassifierTest.mariadb;
import static dev.xatm.client.enlist.XaErrorClassifierTest.xa;
import static org.assertj.core.api.Assertions.assertThat;

/** What each XA answer of our three drivers is named for the participant core. */
class XaResultsTest {

    @Test
    void rolledBackCodesAreARollbackExceptToATwoPhaseCommit() {
        for (int code = XAException.XA_RBBASE; code <= XAException.XA_RBEND; code++) {
            assertThat(XaResults.of(xa(code), XaOp.PREPARE)).isEqualTo(XaResult.ROLLED_BACK);
            assertThat(XaResults.of(xa(code), XaOp.COMMIT_ONE_PHASE)).isEqualTo(XaResult.ROLLED_BACK);
            assertThat(XaResults.of(xa(code), XaOp.ROLLBACK)).isEqualTo(XaResult.ROLLED_BACK);
            // a branch that voted YES rolled back by the database's own decision
            assertThat(XaResults.of(xa(code), XaOp.COMMIT)).isEqualTo(XaResult.HEURISTIC_ROLLBACK);
        }
    }

    @Test
    void notaIsNotFoundWhateverTheCall() {
        for (XaOp op : XaOp.values()) {
            assertThat(XaResults.of(xa(XAException.XAER_NOTA), op)).isEqualTo(XaResult.NOT_FOUND);
        }
    }

    @Test
    void eachHeuristicCodeIsItsHeuristic() {
        assertThat(XaResults.of(xa(XAException.XA_HEURCOM), XaOp.ROLLBACK)).isEqualTo(XaResult.HEURISTIC_COMMIT);
        assertThat(XaResults.of(xa(XAException.XA_HEURRB), XaOp.COMMIT)).isEqualTo(XaResult.HEURISTIC_ROLLBACK);
        assertThat(XaResults.of(xa(XAException.XA_HEURMIX), XaOp.COMMIT)).isEqualTo(XaResult.HEURISTIC_MIXED);
        assertThat(XaResults.of(xa(XAException.XA_HEURHAZ), XaOp.ROLLBACK)).isEqualTo(XaResult.HEURISTIC_HAZARD);
    }

    @Test
    void aLostAnswerIsUnavailableNeverAnOutcome() {
        assertThat(XaResults.of(xa(XAException.XAER_RMFAIL), XaOp.PREPARE)).isEqualTo(XaResult.UNAVAILABLE);
        assertThat(XaResults.of(xa(XAException.XAER_RMFAIL), XaOp.COMMIT)).isEqualTo(XaResult.UNAVAILABLE);
        // pgjdbc after its backend was terminated with the branch prepared
        assertThat(XaResults.of(xa(XAException.XAER_RMERR), XaOp.COMMIT)).isEqualTo(XaResult.UNAVAILABLE);
        // mariadb-java-client: a killed connection arrives with no XA code
        assertThat(XaResults.of(mariadb(new SQLNonTransientConnectionException("Connection reset", "08000")), XaOp.PREPARE))
                .isEqualTo(XaResult.UNAVAILABLE);
    }

    @Test
    void driverQuirksAreUndoneBeforeNaming() {
        // pgjdbc: XAER_RMERR for "prepared transaction does not exist" (SQLSTATE 42704) is no such branch
        XAException pg = new XAException(XAException.XAER_RMERR);
        pg.initCause(new SQLException("prepared transaction with identifier \"x\" does not exist", "42704"));
        assertThat(XaResults.of(pg, XaOp.COMMIT)).isEqualTo(XaResult.NOT_FOUND);
        // MariaDB: server error 1614 (XA_RBDEADLOCK) with no XA code
        assertThat(XaResults.of(mariadb(new SQLException("deadlock", "XA102", 1614)), XaOp.PREPARE)).isEqualTo(XaResult.ROLLED_BACK);
        // MariaDB: server error 1397 (XAER_NOTA) with no XA code
        assertThat(XaResults.of(mariadb(new SQLException("unknown XID", "XAE04", 1397)), XaOp.ROLLBACK)).isEqualTo(XaResult.NOT_FOUND);
    }

    @Test
    void aDefiniteRefusalIsAFailure() {
        assertThat(XaResults.of(xa(XAException.XAER_PROTO), XaOp.END)).isEqualTo(XaResult.FAILED);
        assertThat(XaResults.of(xa(XAException.XAER_INVAL), XaOp.COMMIT)).isEqualTo(XaResult.FAILED);
    }

    @Test
    void onlyTheHeuristicThatWasAskedForMatches() {
        assertThat(XaResults.matchesDecision(XaResult.HEURISTIC_COMMIT, XaOp.COMMIT)).isTrue();
        assertThat(XaResults.matchesDecision(XaResult.HEURISTIC_COMMIT, XaOp.COMMIT_ONE_PHASE)).isTrue();
        assertThat(XaResults.matchesDecision(XaResult.HEURISTIC_ROLLBACK, XaOp.ROLLBACK)).isTrue();
        assertThat(XaResults.matchesDecision(XaResult.HEURISTIC_ROLLBACK, XaOp.COMMIT)).isFalse();
        assertThat(XaResults.matchesDecision(XaResult.HEURISTIC_MIXED, XaOp.ROLLBACK)).isFalse();
        assertThat(XaResults.matchesDecision(XaResult.HEURISTIC_COMMIT, XaOp.PREPARE)).isFalse();
    }
}
