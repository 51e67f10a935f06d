package dev.xatm.client.enlist;

import dev.xatm.client.enlist.XaErrorClassifier.Verdict;
import org.junit.jupiter.api.Test;

import javax.transaction.xa.XAException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;

import static dev.xatm.client.enlist.XaOperation.COMMIT;
import static dev.xatm.client.enlist.XaOperation.COMMIT_ONE_PHASE;
import static dev.xatm.client.enlist.XaOperation.PREPARE;
import static dev.xatm.client.enlist.XaOperation.ROLLBACK;
import static org.assertj.core.api.Assertions.assertThat;

/** The per-driver error classifier: what each XA error of our three drivers means for the agent. */
class XaErrorClassifierTest {
    static XAException xa(int code) {
        return new XAException(code);
    }

    /** mariadb-java-client: unmapped server errors arrive as errorCode 0 with the SQLException as cause. */
    static XAException mariadb(SQLException cause) {
        XAException e = new XAException(cause.getMessage());
        e.initCause(cause);
        return e;
    }

    @Test
    void xaerNotaMeansDoneForPhaseTwoAndFailureForPhaseOne() {
        assertThat(XaErrorClassifier.classify(xa(XAException.XAER_NOTA), ROLLBACK)).isEqualTo(Verdict.ALREADY_DONE);
        assertThat(XaErrorClassifier.classify(xa(XAException.XAER_NOTA), COMMIT)).isEqualTo(Verdict.ALREADY_DONE);
        assertThat(XaErrorClassifier.classify(xa(XAException.XAER_NOTA), PREPARE)).isEqualTo(Verdict.FATAL);
    }

    @Test
    void rolledBackCodesAreDoneForRollbackHeuristicForCommitFatalForPrepare() {
        for (int code = XAException.XA_RBBASE; code <= XAException.XA_RBEND; code++) {
            assertThat(XaErrorClassifier.classify(xa(code), ROLLBACK)).isEqualTo(Verdict.ALREADY_DONE);
            assertThat(XaErrorClassifier.classify(xa(code), COMMIT)).isEqualTo(Verdict.HEURISTIC);
            assertThat(XaErrorClassifier.classify(xa(code), PREPARE)).isEqualTo(Verdict.FATAL);
            assertThat(XaErrorClassifier.classify(xa(code), COMMIT_ONE_PHASE)).isEqualTo(Verdict.FATAL);
        }
    }

    @Test
    void heuristicsAreNeverDropped() {
        assertThat(XaErrorClassifier.classify(xa(XAException.XA_HEURMIX), COMMIT)).isEqualTo(Verdict.HEURISTIC);
        assertThat(XaErrorClassifier.classify(xa(XAException.XA_HEURHAZ), ROLLBACK)).isEqualTo(Verdict.HEURISTIC);
        assertThat(XaErrorClassifier.classify(xa(XAException.XA_HEURRB), COMMIT)).isEqualTo(Verdict.HEURISTIC);
        assertThat(XaErrorClassifier.classify(xa(XAException.XA_HEURCOM), ROLLBACK)).isEqualTo(Verdict.HEURISTIC);
        // even a heuristic that matches the command is reported (and forgotten), never taken for a plain success
        assertThat(XaErrorClassifier.classify(xa(XAException.XA_HEURCOM), COMMIT)).isEqualTo(Verdict.HEURISTIC);
        assertThat(XaErrorClassifier.classify(xa(XAException.XA_HEURRB), ROLLBACK)).isEqualTo(Verdict.HEURISTIC);
    }

    @Test
    void eachHeuristicCodeHasItsAcknowledgement() {
        assertThat(XaErrorClassifier.heuristicAnswer(xa(XAException.XA_HEURCOM), COMMIT)).isEqualTo(BranchAnswer.HEURISTIC_COMMIT);
        assertThat(XaErrorClassifier.heuristicAnswer(xa(XAException.XA_HEURRB), ROLLBACK)).isEqualTo(BranchAnswer.HEURISTIC_ROLLBACK);
        assertThat(XaErrorClassifier.heuristicAnswer(xa(XAException.XA_HEURMIX), ROLLBACK)).isEqualTo(BranchAnswer.HEURISTIC_MIXED);
        assertThat(XaErrorClassifier.heuristicAnswer(xa(XAException.XA_HEURHAZ), COMMIT)).isEqualTo(BranchAnswer.HEURISTIC_HAZARD);
        // XA_RB* after a YES vote: only the database's own decision can have rolled the branch back
        assertThat(XaErrorClassifier.heuristicAnswer(xa(XAException.XA_RBTIMEOUT), COMMIT)).isEqualTo(BranchAnswer.HEURISTIC_ROLLBACK);
        assertThat(XaErrorClassifier.heuristicAnswer(xa(XAException.XA_RBTIMEOUT), COMMIT_ONE_PHASE)).isNull();
        assertThat(XaErrorClassifier.heuristicAnswer(xa(XAException.XA_RBROLLBACK), ROLLBACK)).isNull();
        assertThat(XaErrorClassifier.heuristicAnswer(xa(XAException.XAER_NOTA), COMMIT)).isNull();
        assertThat(XaErrorClassifier.matchesDecision(BranchAnswer.HEURISTIC_COMMIT, COMMIT)).isTrue();
        assertThat(XaErrorClassifier.matchesDecision(BranchAnswer.HEURISTIC_COMMIT, ROLLBACK)).isFalse();
        assertThat(XaErrorClassifier.matchesDecision(BranchAnswer.HEURISTIC_ROLLBACK, ROLLBACK)).isTrue();
        assertThat(XaErrorClassifier.matchesDecision(BranchAnswer.HEURISTIC_HAZARD, COMMIT)).isFalse();
    }

    /** pgjdbc: COMMIT PREPARED of its own connection's xid that the server no longer has comes as XAER_RMERR with SQLSTATE 42704. */
    @Test
    void pgjdbcUndefinedPreparedTransactionIsNoSuchBranch() {
        XAException e = new XAException("Error committing prepared transaction");
        e.errorCode = XAException.XAER_RMERR;
        e.initCause(new SQLException("prepared transaction with identifier \"1_x_y\" does not exist", "42704"));
        assertThat(XaErrorClassifier.effectiveCode(e)).isEqualTo(XAException.XAER_NOTA);
        assertThat(XaErrorClassifier.outcomeUnknown(e)).isFalse();
    }

    /** pgjdbc reports a still-prepared branch as RMERR after its backend died: retry phase 2. */
    @Test
    void resourceFailuresAreRetriedInPhaseTwo() {
        assertThat(XaErrorClassifier.classify(xa(XAException.XAER_RMFAIL), COMMIT)).isEqualTo(Verdict.RETRY);
        assertThat(XaErrorClassifier.classify(xa(XAException.XAER_RMERR), COMMIT)).isEqualTo(Verdict.RETRY);
        assertThat(XaErrorClassifier.classify(xa(XAException.XAER_RMERR), ROLLBACK)).isEqualTo(Verdict.RETRY);
        assertThat(XaErrorClassifier.classify(xa(XAException.XAER_RMFAIL), PREPARE)).isEqualTo(Verdict.FATAL);
    }

    @Test
    void protocolErrorsAreFatal() {
        assertThat(XaErrorClassifier.classify(xa(XAException.XAER_PROTO), COMMIT)).isEqualTo(Verdict.FATAL);
        assertThat(XaErrorClassifier.classify(xa(XAException.XAER_INVAL), ROLLBACK)).isEqualTo(Verdict.FATAL);
        assertThat(XaErrorClassifier.classify(xa(XAException.XAER_DUPID), PREPARE)).isEqualTo(Verdict.FATAL);
    }

    /** errorCode 0 on a lost connection is never success and never final. */
    @Test
    void mariadbErrorCodeZeroIsRetriedNotTakenAsSuccess() {
        XAException lost = mariadb(new SQLNonTransientConnectionException("Socket closed", "08000"));
        assertThat(lost.errorCode).isZero();
        assertThat(XaErrorClassifier.classify(lost, COMMIT)).isEqualTo(Verdict.RETRY);
        assertThat(XaErrorClassifier.classify(lost, ROLLBACK)).isEqualTo(Verdict.RETRY);
        assertThat(XaErrorClassifier.classify(new XAException("no cause at all"), COMMIT)).isEqualTo(Verdict.RETRY);
        assertThat(XaErrorClassifier.classify(new XAException("no cause at all"), PREPARE)).isEqualTo(Verdict.FATAL);
    }

    /** mariadb-java-client does not map 1613/1614: recover them from the cause. */
    @Test
    void mariadbDeadlockAndTimeoutMeanRolledBack() {
        XAException deadlock = mariadb(new SQLException("Deadlock found", "40001", 1614));
        XAException timeout = mariadb(new SQLException("Lock wait timeout", "HY000", 1613));
        assertThat(XaErrorClassifier.classify(deadlock, ROLLBACK)).isEqualTo(Verdict.ALREADY_DONE);
        assertThat(XaErrorClassifier.classify(timeout, ROLLBACK)).isEqualTo(Verdict.ALREADY_DONE);
        assertThat(XaErrorClassifier.classify(deadlock, PREPARE)).isEqualTo(Verdict.FATAL);
        assertThat(XaErrorClassifier.effectiveCode(mariadb(new SQLException("Unknown XID", "XAE04", 1397)))).isEqualTo(XAException.XAER_NOTA);
    }

    @Test
    void describeNamesTheCode() {
        assertThat(XaErrorClassifier.describe(xa(XAException.XAER_NOTA))).startsWith("XAER_NOTA (-4)");
    }

    /** A failure that may have come after the database did the work (the answer lost with the connection) is in doubt. */
    @Test
    void lostAnswersAreInDoubtDefiniteAnswersAreNot() {
        assertThat(XaErrorClassifier.outcomeUnknown(xa(XAException.XAER_RMFAIL))).isTrue();
        assertThat(XaErrorClassifier.outcomeUnknown(xa(XAException.XAER_RMERR))).isTrue(); // pgjdbc, terminated backend
        assertThat(XaErrorClassifier.outcomeUnknown(new XAException("Connection killed"))).isTrue(); // mariadb-java-client: code 0
        assertThat(XaErrorClassifier.outcomeUnknown(mariadb(new SQLNonTransientConnectionException("socket closed", "08000"))))
                .isTrue();
        XAException protoButClosed = xa(XAException.XAER_PROTO);
        protoButClosed.initCause(new SQLException("This connection has been closed.", "08003"));
        assertThat(XaErrorClassifier.outcomeUnknown(protoButClosed)).isTrue();

        assertThat(XaErrorClassifier.outcomeUnknown(xa(XAException.XAER_NOTA))).isFalse();
        assertThat(XaErrorClassifier.outcomeUnknown(xa(XAException.XA_RBROLLBACK))).isFalse();
        assertThat(XaErrorClassifier.outcomeUnknown(xa(XAException.XA_RBINTEGRITY))).isFalse();
        assertThat(XaErrorClassifier.outcomeUnknown(xa(XAException.XAER_PROTO))).isFalse();
        assertThat(XaErrorClassifier.outcomeUnknown(xa(XAException.XA_HEURRB))).isFalse();
        // MariaDB's own "rolled back" errors behind errorCode 0 are definite too
        assertThat(XaErrorClassifier.outcomeUnknown(mariadb(new SQLException("XA_RBDEADLOCK", "XA102", 1614)))).isFalse();
    }
}
