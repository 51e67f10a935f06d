package dev.xatm.core.commit;

import dev.xatm.core.Outcome;
import dev.xatm.core.Vote;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Illegal moves are programmer errors and fail loudly, naming the transaction, its state and the event. */
class TransitionsTest {

    @Test
    void illegalTransactionTransitionNamesGtridStateAndEvent() {
        GlobalTxn t = GlobalTxn.begun("g1", "n", 100);
        assertThatThrownBy(t::decisionDurable)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("g1").hasMessageContaining("ACTIVE").hasMessageContaining("decision durable");
    }

    @Test
    void aCommitDecisionCanNeverBeAborted() {
        GlobalTxn t = RestoredTxns.committing("g1", "n", List.of(Fixture.branch(1)));
        assertThatThrownBy(() -> t.abort(Outcome.ROLLED_BACK, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("COMMITTING");
    }

    @Test
    void abortOnlyTakesARollbackOutcome() {
        GlobalTxn t = GlobalTxn.begun("g1", "n", 100);
        assertThatThrownBy(() -> t.abort(Outcome.COMMITTED, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void branchesJoinOnlyWhileActive() {
        GlobalTxn t = GlobalTxn.begun("g1", "n", 100);
        t.addBranch(Fixture.branch(1));
        t.startOnePhase(0);
        assertThatThrownBy(() -> t.addBranch(Fixture.branch(2)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("g1").hasMessageContaining("COMMITTING_ONE_PHASE");
    }

    @Test
    void illegalBranchTransitionNamesBranchPhaseAndEvent() {
        BranchProgress b = new BranchProgress("g1", Fixture.branch(1), BranchProgress.Phase.REGISTERED);
        assertThatThrownBy(() -> b.voted(Vote.YES))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("g1/b1").hasMessageContaining("REGISTERED").hasMessageContaining("vote YES");
        assertThatThrownBy(() -> b.commit(Fixture.CONFIG, 0))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("commit");
    }

    @Test
    void finishedMemoryRefusesUnfinishedTransactions() {
        FinishedMemory m = new FinishedMemory(3);
        assertThatThrownBy(() -> m.remember(GlobalTxn.begun("g1", "n", 1))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void backoffDoublingCannotOverflow() {
        var config = new dev.xatm.core.CoordinatorConfig(1, 1, Long.MAX_VALUE, 1, 1, 0);
        BranchProgress b = new BranchProgress("g1", Fixture.branch(1), BranchProgress.Phase.REGISTERED);
        b.prepare(config, 0);
        long previousDue = 0;
        for (int i = 0; i < 70; i++) {
            b.attempted(config, 0);
            assertThat(b.dueMillis()).isGreaterThanOrEqualTo(previousDue);
            previousDue = b.dueMillis();
        }
        assertThat(previousDue).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void saturatedAddStaysInRange() {
        assertThat(Millis.saturatedAdd(Long.MAX_VALUE - 1, 10)).isEqualTo(Long.MAX_VALUE);
        assertThat(Millis.saturatedAdd(Long.MIN_VALUE + 1, -10)).isEqualTo(Long.MIN_VALUE);
        assertThat(Millis.saturatedAdd(5, 10)).isEqualTo(15);
    }
}
