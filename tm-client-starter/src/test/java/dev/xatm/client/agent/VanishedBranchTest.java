package dev.xatm.client.agent;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.BranchAnswer;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.PhaseAction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A prepared branch that disappeared from its database without our commit (a DBA's manual
 * {@code ROLLBACK PREPARED} / {@code XA ROLLBACK}) answers the coordinator's COMMIT with XAER_NOTA. Where
 * we know the branch was prepared there and no commit of ours can have finished it, that is reported
 * as HEURISTIC_HAZARD, never counted as committed. Where our own commit may have done it (its answer
 * was lost), or nobody here ever saw the branch prepared, NOTA stays "done".
 */
class VanishedBranchTest {
    final StubResourceManager rm = new StubResourceManager();
    AgentHarness h;
    HikariDataSource pool;
    EnlistedResource resource;

    @AfterEach
    void tearDown() throws Exception {
        GlobalTxContext.bind(null);
        if (h != null) {
            h.close();
        }
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void aHeldPreparedBranchRolledBackByHandIsAHazardNotACommit() throws Exception {
        h = new AgentHarness(false, new AgentListener() { }, rm.dialect());
        HeuristicAckTest acks = new HeuristicAckTest();
        acks.h = h;
        TmXid xid = h.insert("xatm:vanished.1.", 3);
        Branch b = h.table.get(xid);
        assertThat(h.agent.runForCaller(b, BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_YES);
        rm.finishElsewhere(xid); // ROLLBACK PREPARED by hand

        h.fake.command(xid.gtrid(), xid.bqual(), PhaseAction.COMMIT);

        assertThat(acks.ackFor(xid, PhaseAction.COMMIT, 5_000)).isEqualTo(AckResult.HEURISTIC_HAZ);
        assertThat(b.heuristic()).isTrue();
    }

    Recoverer recoverer() {
        pool = new HikariDataSource();
        pool.setJdbcUrl("jdbc:h2:mem:vanished" + System.nanoTime());
        pool.setMaximumPoolSize(2);
        resource = new EnlistedResource("stub", pool.getJdbcUrl(), rm.dialect(), pool, null);
        return new Recoverer(() -> List.of(resource), () -> new RecoveryFilter("xatm", Optional.of(new ClusterId("test1234")), false));
    }

    @Test
    void aBranchListedByOurXaRecoverThatVanishesBeforeTheCommitIsAHazard() throws Exception {
        Recoverer recoverer = recoverer();
        TmXid xid = new TmXid("xatm:test1234-vanish.1", "b1");
        rm.prepareOrphan(xid);
        assertThat(recoverer.scan(resource)).containsExactly(xid);
        rm.finishElsewhere(xid); // XA ROLLBACK by hand

        assertThat(recoverer.finish(xid, true, null)).isEqualTo(BranchAnswer.HEURISTIC_HAZARD);
    }

    @Test
    void aRollbackOfAVanishedBranchIsDone() throws Exception {
        Recoverer recoverer = recoverer();
        TmXid xid = new TmXid("xatm:test1234-vanish.2", "b1");
        rm.prepareOrphan(xid);
        assertThat(recoverer.scan(resource)).containsExactly(xid);
        rm.finishElsewhere(xid);

        assertThat(recoverer.finish(xid, false, null)).isEqualTo(BranchAnswer.DONE);
    }

    /** A COMMIT resent after a restart for a branch no XA RECOVER of ours listed: most likely our earlier incarnation committed it. */
    @Test
    void aCommitForABranchNobodyHereSawPreparedIsDone() {
        Recoverer recoverer = recoverer();
        assertThat(recoverer.finish(new TmXid("xatm:test1234-earlier.1", "b1"), true, null)).isEqualTo(BranchAnswer.DONE);
    }

    /** Our own XA COMMIT by xid lost its answer after it ran: the retry's NOTA is that commit, not a hazard. */
    @Test
    void aNotaAfterOurOwnUnansweredCommitIsDone() throws Exception {
        Recoverer recoverer = recoverer();
        TmXid xid = new TmXid("xatm:test1234-lost.1", "b1");
        rm.prepareOrphan(xid);
        assertThat(recoverer.scan(resource)).containsExactly(xid);
        rm.failNextCommit(new javax.transaction.xa.XAException(javax.transaction.xa.XAException.XAER_RMFAIL),
                StubResourceManager.Then.EXECUTES);

        assertThat(recoverer.finish(xid, true, null)).isEqualTo(BranchAnswer.NONE);
        assertThat(recoverer.finish(xid, true, null)).isEqualTo(BranchAnswer.DONE);
    }

    /**
     * Our own XA COMMIT by xid went through, and a second COMMIT for the branch follows (the start-up
     * resume and an XA RECOVER sweep that listed the branch just before that commit landed both ask
     * for it): the second one's NOTA is our commit, not a hazard.
     */
    @Test
    void aNotaAfterOurOwnSuccessfulCommitIsDone() throws Exception {
        Recoverer recoverer = recoverer();
        TmXid xid = new TmXid("xatm:test1234-twice.1", "b1");
        rm.prepareOrphan(xid);
        assertThat(recoverer.scan(resource)).containsExactly(xid);
        assertThat(recoverer.finish(xid, true, null)).isEqualTo(BranchAnswer.DONE);

        assertThat(recoverer.finish(xid, true, resource)).isEqualTo(BranchAnswer.DONE);
    }
}
