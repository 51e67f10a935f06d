package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.Protocol;
import dev.xatm.core.Reply;
import dev.xatm.core.ThreePhaseTimeouts;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.commit.Fixture.branch;
import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Three-phase commit, the live path: how a 3PC commit starts, the CAN_COMMIT and PRE_COMMIT answers,
 * the PRE_COMMIT record that must be durable before any PRE_COMMIT leaves, both answer deadlines,
 * the participant timeouts carried on the commands, and the configuration rule that keeps a
 * participant waiting longer than the coordinator. Timeouts are those of {@link Fixture#THREE_PHASE}:
 * coordinator 500 / 700 ms, participants 2000 / 3000 ms.
 */
class ThreePhaseTest {
    private static final long PARTICIPANT_CAN_COMMIT = 2_000;
    private static final long PARTICIPANT_PRE_COMMIT = 3_000;

    private final Fixture f = new Fixture(Fixture.THREE_PHASE);

    // ---- which protocol runs ----

    @Test
    void beginWithoutAProtocolTakesTheConfiguredDefault() {
        assertThat(f.canCommitAsked("g1").messages()).containsExactly(
                cmd("g1", 1, Action.CAN_COMMIT, PARTICIPANT_CAN_COMMIT), cmd("g1", 2, Action.CAN_COMMIT, PARTICIPANT_CAN_COMMIT));

        Fixture twoPhaseDefault = new Fixture();
        assertThat(twoPhaseDefault.commitRequested("g1", 2).messages()).containsExactly(
                cmd("g1", 1, Action.PREPARE), cmd("g1", 2, Action.PREPARE));
    }

    @Test
    void aProtocolNamedAtBeginOverridesTheDefault() {
        f.step(new Event.Begin("g1", "test", Fixture.DEADLINE, Protocol.TWO_PHASE));
        f.register("g1", 1);
        f.register("g1", 2);
        assertThat(f.commit("g1").messages()).containsExactly(cmd("g1", 1, Action.PREPARE), cmd("g1", 2, Action.PREPARE));

        Fixture twoPhaseDefault = new Fixture();
        twoPhaseDefault.step(new Event.Begin("g2", "test", Fixture.DEADLINE, Protocol.THREE_PHASE));
        twoPhaseDefault.register("g2", 1);
        twoPhaseDefault.register("g2", 2);
        long defaultParticipantCanCommit = ThreePhaseTimeouts.defaults().participantCanCommitMillis();
        assertThat(twoPhaseDefault.commit("g2").messages()).containsExactly(
                cmd("g2", 1, Action.CAN_COMMIT, defaultParticipantCanCommit), cmd("g2", 2, Action.CAN_COMMIT, defaultParticipantCanCommit));
    }

    @Test
    void oneBranchCommitsInOnePhaseWhateverTheProtocol() {
        var e = f.commitRequested("g1", 1);
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.COMMIT_ONE_PHASE));
        assertThat(e.logAppends()).isEmpty();
        assertThat(f.ack("g1", 1, Action.COMMIT_ONE_PHASE).replies()).containsExactly(
                new Reply.Decided("g1", Outcome.COMMITTED), new Reply.Finished("g1", Outcome.COMMITTED));
    }

    @Test
    void noBranchCommitsAtOnceWithoutARecord() {
        f.begin("g1");
        var e = f.commit("g1");
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.messages()).isEmpty();
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED), new Reply.Finished("g1", Outcome.COMMITTED));
    }

    // ---- CAN_COMMIT ----

    @Test
    void commitAsksCanCommitOfEveryBranchAndWritesNothing() {
        var e = f.canCommitAsked("g1");
        assertThat(e.messages()).containsExactly(
                cmd("g1", 1, Action.CAN_COMMIT, PARTICIPANT_CAN_COMMIT), cmd("g1", 2, Action.CAN_COMMIT, PARTICIPANT_CAN_COMMIT));
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.replies()).isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ASKING_CAN_COMMIT);
    }

    @Test
    void everyYesToCanCommitAppendsTheDurablePreCommitRecordAndSendsNothingYet() {
        f.canCommitAsked("g1");
        assertThat(f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT).isEmpty()).isTrue();
        var e = f.vote("g1", 2, Vote.YES, Action.CAN_COMMIT);
        assertThat(e.logAppends()).containsExactly(new LogRecord.PreCommit("g1", "test", List.of(branch(1), branch(2))));
        assertThat(e.mustSync()).isTrue();
        assertThat(e.messages()).isEmpty();
        assertThat(e.replies()).isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
    }

    @Test
    void noPreCommitLeavesBeforeItsRecordIsDurableHoweverLongTheDiskTakes() {
        f.preCommitAppended("g1");
        assertThat(f.tick(100_000).isEmpty()).isTrue(); // no deadline either: it waits for the disk, like a decision
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
    }

    @Test
    void aNoToCanCommitAbortsAtOnceWithoutARecord() {
        f.canCommitAsked("g1");
        var e = f.vote("g1", 1, Vote.NO, Action.CAN_COMMIT);
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        f.ack("g1", 1, Action.ROLLBACK);
        var last = f.ack("g1", 2, Action.ROLLBACK);
        assertThat(last.logAppends()).isEmpty(); // nothing was logged, so nothing needs closing
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void aReadOnlyAnswerToCanCommitLeavesTheBranchOutOfTheRecordAndOfPreCommit() {
        f.canCommitAsked("g1");
        assertThat(f.vote("g1", 1, Vote.READ_ONLY, Action.CAN_COMMIT).isEmpty()).isTrue();
        var e = f.vote("g1", 2, Vote.YES, Action.CAN_COMMIT);
        assertThat(e.logAppends()).containsExactly(new LogRecord.PreCommit("g1", "test", List.of(branch(2))));
        assertThat(f.durable("g1").messages()).containsExactly(cmd("g1", 2, Action.PRE_COMMIT, PARTICIPANT_PRE_COMMIT));
        assertThat(f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT).logAppends())
                .containsExactly(new LogRecord.Decision("g1", "test", List.of(branch(2))));
        assertThat(f.durable("g1").messages()).containsExactly(cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void everyBranchReadOnlyAtCanCommitCommitsWithoutARecord() {
        f.canCommitAsked("g1");
        f.vote("g1", 1, Vote.READ_ONLY, Action.CAN_COMMIT);
        var e = f.vote("g1", 2, Vote.READ_ONLY, Action.CAN_COMMIT);
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.messages()).isEmpty();
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED), new Reply.Finished("g1", Outcome.COMMITTED));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
    }

    @Test
    void aMissingCanCommitAnswerAbortsAtTheAnswerDeadline() {
        f.canCommitAsked("g1"); // at 0: answers are due by 500
        f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT);
        assertThat(f.tick(499).replies()).isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ASKING_CAN_COMMIT);
        var e = f.tick(500);
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
        assertThat(e.logAppends()).isEmpty();
    }

    @Test
    void theCanCommitDeadlineIsNeverLaterThanTheGlobalDeadline() {
        f.begin("g1", 300);
        f.register("g1", 1);
        f.register("g1", 2);
        f.commit("g1");
        assertThat(f.tick(299).replies()).isEmpty();
        assertThat(f.tick(300).replies()).containsExactly(new Reply.Decided("g1", Outcome.TIMED_OUT));
    }

    @Test
    void canCommitIsResentWithItsParticipantTimeoutUntilAnswered() {
        f.canCommitAsked("g1");
        f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT);
        assertThat(f.tick(99).messages()).isEmpty();
        assertThat(f.tick(100).messages()).containsExactly(cmd("g1", 2, Action.CAN_COMMIT, PARTICIPANT_CAN_COMMIT));
    }

    @Test
    void aLateCanCommitAnswerIsIgnored() {
        f.canCommitAsked("g1");
        f.vote("g1", 1, Vote.NO, Action.CAN_COMMIT);
        assertThat(f.vote("g1", 2, Vote.YES, Action.CAN_COMMIT).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK);
    }

    @Test
    void aDuplicateCanCommitYesWhileThePreCommitRecordIsWrittenIsIgnored() {
        f.preCommitAppended("g1");
        assertThat(f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT).isEmpty()).isTrue();
        assertThat(f.vote("g1", 1, Vote.NO, Action.CAN_COMMIT).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
    }

    // ---- PRE_COMMIT ----

    @Test
    void theDurablePreCommitRecordSendsPreCommitWithItsParticipantTimeout() {
        f.preCommitAppended("g1");
        var e = f.durable("g1");
        assertThat(e.messages()).containsExactly(
                cmd("g1", 1, Action.PRE_COMMIT, PARTICIPANT_PRE_COMMIT), cmd("g1", 2, Action.PRE_COMMIT, PARTICIPANT_PRE_COMMIT));
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.replies()).isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
        assertThat(f.durable("g1").isEmpty()).isTrue(); // a duplicate completion changes nothing
    }

    @Test
    void everyYesToPreCommitRunsTheTwoPhaseCommitDecision() {
        f.preCommitSent("g1");
        assertThat(f.vote("g1", 1, Vote.YES, Action.PRE_COMMIT).isEmpty()).isTrue();
        var decided = f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT);
        assertThat(decided.logAppends()).containsExactly(new LogRecord.Decision("g1", "test", List.of(branch(1), branch(2))));
        assertThat(decided.mustSync()).isTrue();
        assertThat(decided.messages()).isEmpty(); // no COMMIT before the decision is durable
        assertThat(decided.replies()).isEmpty();

        var durable = f.durable("g1");
        assertThat(durable.messages()).containsExactly(cmd("g1", 1, Action.COMMIT), cmd("g1", 2, Action.COMMIT));
        assertThat(durable.replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
        f.ack("g1", 1, Action.COMMIT);
        var last = f.ack("g1", 2, Action.COMMIT);
        assertThat(last.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.COMMITTED));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
    }

    @Test
    void aNoToPreCommitAbortsAtOnceAndLogsTheAbort() {
        f.preCommitSent("g1");
        var e = f.vote("g1", 2, Vote.NO, Action.PRE_COMMIT); // b1 has not answered yet: no need to wait for it
        assertThat(e.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        assertThat(e.mustSync()).isTrue();
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
        assertThat(e.replies()).isEmpty(); // the client hears it once the Aborted record is durable
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        f.ack("g1", 1, Action.ROLLBACK);
        var last = f.ack("g1", 2, Action.ROLLBACK);
        assertThat(last.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void aReadOnlyAnswerToPreCommitCountsAsNo() {
        f.preCommitSent("g1");
        f.vote("g1", 1, Vote.YES, Action.PRE_COMMIT);
        var e = f.vote("g1", 2, Vote.READ_ONLY, Action.PRE_COMMIT);
        assertThat(e.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void aMissingPreCommitAnswerAbortsAtTheAnswerDeadline() {
        f.preCommitAppended("g1");
        f.tick(200);
        f.durable("g1"); // at 200: answers are due by 900
        f.vote("g1", 1, Vote.YES, Action.PRE_COMMIT);
        assertThat(f.tick(899).replies()).isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
        var e = f.tick(900);
        assertThat(e.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
        assertThat(e.replies()).isEmpty();
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void thePreCommitDeadlineIsNeverLaterThanTheGlobalDeadline() {
        f.begin("g1", 400);
        f.register("g1", 1);
        f.register("g1", 2);
        f.commit("g1");
        f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT);
        f.vote("g1", 2, Vote.YES, Action.CAN_COMMIT);
        f.durable("g1");
        assertThat(f.tick(399).replies()).isEmpty();
        assertThat(f.tick(400).logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.TIMED_OUT));
    }

    @Test
    void preCommitIsResentWithItsParticipantTimeoutUntilAnswered() {
        f.preCommitSent("g1");
        f.vote("g1", 1, Vote.YES, Action.PRE_COMMIT);
        assertThat(f.tick(100).messages()).containsExactly(cmd("g1", 2, Action.PRE_COMMIT, PARTICIPANT_PRE_COMMIT));
        assertThat(f.tick(299).messages()).isEmpty();
        assertThat(f.tick(300).messages()).containsExactly(cmd("g1", 2, Action.PRE_COMMIT, PARTICIPANT_PRE_COMMIT));
    }

    @Test
    void aLatePreCommitYesIsAnsweredWithRollback() {
        f.preCommitSent("g1");
        f.vote("g1", 1, Vote.NO, Action.PRE_COMMIT);
        f.durable("g1"); // the Aborted record
        // b2 got PRE_COMMIT and prepared, but its answer arrives after the abort: it must hear ROLLBACK.
        assertThat(f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT).messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK));
        f.ack("g1", 1, Action.ROLLBACK);
        f.ack("g1", 2, Action.ROLLBACK);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT).messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK));
    }

    @Test
    void thePreCommitRecordBecomingDurableAfterAnAbortSendsNothing() {
        f.preCommitAppended("g1");
        var rollback = f.rollback("g1");
        assertThat(rollback.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        assertThat(rollback.replies()).isEmpty();
        // The PRE_COMMIT record's completion sends nothing, and does not yet announce the rollback: the
        // Aborted record, behind it in the log, is not durable yet.
        assertThat(f.durable("g1").isEmpty()).isTrue();
        assertThat(f.rollback("g1").isEmpty()).isTrue(); // a retried rollback waits for it too
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(f.rollback("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void aClientMayRollBackInCanCommitAndInAFreshPreCommit() {
        f.canCommitAsked("g1");
        assertThat(f.rollback("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        f.preCommitSent("g2");
        var e = f.rollback("g2");
        assertThat(e.logAppends()).containsExactly(new LogRecord.Aborted("g2"));
        assertThat(f.durable("g2").replies()).containsExactly(new Reply.Decided("g2", Outcome.ROLLED_BACK));
    }

    @Test
    void aRetriedCommitInThePreDecisionStatesIsAnsweredOnlyByTheDecision() {
        f.canCommitAsked("g1");
        assertThat(f.commit("g1").isEmpty()).isTrue();
        f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT);
        f.vote("g1", 2, Vote.YES, Action.CAN_COMMIT);
        assertThat(f.commit("g1").isEmpty()).isTrue();
        f.durable("g1");
        assertThat(f.commit("g1").isEmpty()).isTrue();
    }

    // ---- configuration ----

    @Test
    void aParticipantMustWaitLongerForTheDecisionThanTheCoordinatorWaitsForPreCommitAnswers() {
        assertThatThrownBy(() -> new ThreePhaseTimeouts(500, 700, 2_000, 700))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("participantPreCommitMillis (700)").hasMessageContaining("preCommitMillis (700)");
        assertThatThrownBy(() -> new ThreePhaseTimeouts(500, 700, 2_000, 600)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new ThreePhaseTimeouts(500, 700, 2_000, 701).participantPreCommitMillis()).isEqualTo(701);
    }

    @Test
    void everyThreePhaseTimeoutMustBePositive() {
        assertThatThrownBy(() -> new ThreePhaseTimeouts(0, 700, 2_000, 3_000)).hasMessageContaining("canCommitMillis");
        assertThatThrownBy(() -> new ThreePhaseTimeouts(500, -1, 2_000, 3_000)).hasMessageContaining("preCommitMillis");
        assertThatThrownBy(() -> new ThreePhaseTimeouts(500, 700, 0, 3_000)).hasMessageContaining("participantCanCommitMillis");
        assertThatThrownBy(() -> CoordinatorConfig.defaults().withThreePhase(null, Protocol.THREE_PHASE))
                .isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> CoordinatorConfig.defaults().withThreePhase(ThreePhaseTimeouts.defaults(), null))
                .isInstanceOf(NullPointerException.class);
    }

    @Test
    void theDefaultsAreTwoPhaseWithAValidThreePhaseMargin() {
        CoordinatorConfig d = CoordinatorConfig.defaults();
        assertThat(d.defaultProtocol()).isEqualTo(Protocol.TWO_PHASE);
        assertThat(d.threePhase().participantPreCommitMillis()).isGreaterThan(d.threePhase().preCommitMillis());
    }
}
