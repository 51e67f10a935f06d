package dev.xatm.core.commit;

import dev.xatm.core.Branch;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.xatm.core.commit.Fixture.branch;
import static org.assertj.core.api.Assertions.assertThat;

/** Rules 1, 2 and 11 of the design notes: Begin, RegisterBranch and the memory of finished transactions. */
class BeginAndRegisterTest {
    private final Fixture f = new Fixture();

    @Test
    void beginOfNewGtridIsActiveAndEchoesTheDeadline() {
        assertThat(f.begin("g1", 5_000).replies()).containsExactly(new Reply.Begun("g1", 5_000));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ACTIVE);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"has space", "ünïcode", "0123456789012345678901234567890123456789012345678901234567890123456789"})
    void beginWithMalformedGtridIsInvalidArgument(String gtrid) {
        assertThat(f.begin(gtrid).replies()).singleElement()
                .isInstanceOfSatisfying(Reply.Rejected.class, r -> {
                    assertThat(r.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
                    assertThat(r.request()).isEqualTo(RequestKind.BEGIN);
                });
        assertThat(f.c.liveCount()).isZero();
    }

    @Test
    void beginWithOverlongNameIsInvalidArgument() {
        var e = f.step(new Event.Begin("g1", "n".repeat(129), 5_000));
        assertThat(rejection(e.replies())).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void branchCannotJoinOnAnAgentWithoutAnOpenStream() {
        f.begin("g1");
        var neverConnected = f.step(new Event.RegisterBranch("g1", new Branch("b9", "db9", "a9")));
        assertThat(rejection(neverConnected.replies())).isEqualTo(ErrorCode.FAILED_PRECONDITION);

        f.disconnected(2);
        assertThat(rejection(f.register("g1", 2).replies())).isEqualTo(ErrorCode.FAILED_PRECONDITION);

        // Nothing changed: the transaction commits at once, having no branch.
        assertThat(f.commit("g1").replies()).contains(new Reply.Finished("g1", Outcome.COMMITTED));
    }

    @Test
    void beginOfLiveGtridIsAlreadyExists() {
        f.begin("g1");
        assertThat(rejection(f.begin("g1").replies())).isEqualTo(ErrorCode.ALREADY_EXISTS);
    }

    @Test
    void beginOfRememberedFinishedGtridIsAlreadyExists() {
        f.begin("g1");
        f.commit("g1"); // no branches: finished at once
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(rejection(f.begin("g1").replies())).isEqualTo(ErrorCode.ALREADY_EXISTS);
    }

    @Test
    void beginBeyondMaxLiveTransactionsIsResourceExhausted() {
        f.begin("g1");
        f.begin("g2");
        f.begin("g3");
        assertThat(rejection(f.begin("g4").replies())).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
        f.commit("g1"); // finishing one frees a slot
        assertThat(f.begin("g4").replies()).containsExactly(new Reply.Begun("g4", Fixture.DEADLINE));
    }

    @Test
    void finishedTransactionsAreForgottenOldestFirstBeyondFinishedMemory() {
        for (String g : new String[] {"g1", "g2", "g3"}) {
            f.begin(g);
            f.commit(g);
        }
        // finishedMemory is 2: g1 is forgotten, so it is presumed aborted and can be begun again.
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.UNKNOWN);
        assertThat(f.c.status("g2")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(f.c.status("g3")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(f.begin("g1").replies()).containsExactly(new Reply.Begun("g1", Fixture.DEADLINE));
    }

    @Test
    void registerOnActiveTransactionIsRegistered() {
        f.begin("g1");
        assertThat(f.register("g1", 1).replies()).containsExactly(new Reply.Registered("g1", "b1"));
    }

    @Test
    void registerOnUnknownGtridIsNotFound() {
        assertThat(rejection(f.register("nope", 1).replies())).isEqualTo(ErrorCode.NOT_FOUND);
    }

    @Test
    void registerWithMalformedGtridOrNoBranchIsInvalidArgument() {
        assertThat(rejection(f.step(new Event.RegisterBranch("bad gtrid", branch(1))).replies())).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        f.begin("g1");
        assertThat(rejection(f.step(new Event.RegisterBranch("g1", null)).replies())).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void registerAfterCommitAskedIsFailedPrecondition() {
        f.commitRequested("g1", 2);
        assertThat(rejection(f.register("g1", 3).replies())).isEqualTo(ErrorCode.FAILED_PRECONDITION);
    }

    @Test
    void registerWhileRollingBackIsFailedPrecondition() {
        f.begin("g1");
        f.register("g1", 1);
        f.rollback("g1");
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK);
        assertThat(rejection(f.register("g1", 2).replies())).isEqualTo(ErrorCode.FAILED_PRECONDITION);
    }

    @Test
    void registerOnFinishedTransactionIsFailedPrecondition() {
        f.begin("g1");
        f.commit("g1");
        assertThat(rejection(f.register("g1", 1).replies())).isEqualTo(ErrorCode.FAILED_PRECONDITION);
    }

    @Test
    void registeringTheSameBranchTwiceIsIdempotent() {
        f.begin("g1");
        f.register("g1", 1);
        assertThat(f.register("g1", 1).replies()).containsExactly(new Reply.Registered("g1", "b1"));
        // Still one branch: a commit goes one-phase.
        assertThat(f.commit("g1").messages()).containsExactly(Fixture.cmd("g1", 1, dev.xatm.core.Action.COMMIT_ONE_PHASE));
    }

    @Test
    void registeringABqualAgainWithOtherAttributesIsAlreadyExists() {
        f.begin("g1");
        f.register("g1", 1);
        var e = f.step(new Event.RegisterBranch("g1", new Branch("b1", "db1", "another-agent")));
        assertThat(rejection(e.replies())).isEqualTo(ErrorCode.ALREADY_EXISTS);
    }

    @Test
    void registerBeyondMaxBranchesIsResourceExhausted() {
        f.begin("g1");
        f.register("g1", 1);
        f.register("g1", 2);
        f.register("g1", 3);
        assertThat(rejection(f.register("g1", 4).replies())).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
    }

    @Test
    void rejectedRequestsChangeNothing() {
        f.begin("g1");
        f.register("g1", 1);
        f.step(new Event.RegisterBranch("g1", new Branch("b1", "db9", "a9")));
        f.begin("g1");
        // Still exactly one branch, on a1, and still ACTIVE.
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ACTIVE);
        assertThat(f.commit("g1").messages()).containsExactly(Fixture.cmd("g1", 1, dev.xatm.core.Action.COMMIT_ONE_PHASE));
    }

    @Test
    void emptyTransactionCommitIsRememberedWithItsOutcome() {
        f.begin("g1");
        f.commit("g1");
        assertThat(f.commit("g1").replies()).containsExactly(
                new Reply.Decided("g1", Outcome.COMMITTED), new Reply.Finished("g1", Outcome.COMMITTED));
    }

    static ErrorCode rejection(java.util.List<Reply> replies) {
        assertThat(replies).hasSize(1);
        assertThat(replies.get(0)).isInstanceOf(Reply.Rejected.class);
        return ((Reply.Rejected) replies.get(0)).code();
    }
}
