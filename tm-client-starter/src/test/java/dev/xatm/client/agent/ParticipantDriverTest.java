package dev.xatm.client.agent;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.Vote;
import dev.xatm.core.participant.BranchKey;
import dev.xatm.core.participant.BranchState;
import dev.xatm.core.participant.OwnDecision;
import dev.xatm.core.participant.Participant;
import dev.xatm.core.participant.ParticipantConfig;
import dev.xatm.core.participant.ParticipantEvent;
import dev.xatm.core.participant.TimerCommand;
import dev.xatm.core.participant.XaCall;
import dev.xatm.core.participant.XaOp;
import dev.xatm.core.participant.XaResult;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The driver of the participant core: it carries out each step's effects in the documented order,
 * runs a branch's XA calls up to the first that fails, feeds their results back, and holds its lock
 * only for the core's step. The protocol's rules are the core's and tested there; here the world is
 * a recording fake.
 */
class ParticipantDriverTest {
    private static final String NODE = "node-1";
    private static final String DB = "orders-db";
    private static final BranchKey KEY = new BranchKey("c1-0001", "b1");
    private static final BranchKey OTHER = new BranchKey("c1-0002", "b1");

    /** Records everything the driver does, in one list, so the order across kinds shows. */
    static final class World implements ParticipantDriver.Ports {
        final List<String> did = Collections.synchronizedList(new ArrayList<>());
        final List<Event> sent = Collections.synchronizedList(new ArrayList<>());
        final List<TimerCommand.Arm> armed = new ArrayList<>();
        final Map<XaOp, XaResult> answers = new HashMap<>();
        List<BranchKey> listed = List.of();
        Consumer<XaCall> duringXa = c -> { };

        @Override
        public void journal(List<OwnDecision> decisions) {
            decisions.forEach(d -> did.add("journal " + d.decision()));
        }

        @Override
        public void arm(TimerCommand.Arm arm) {
            armed.add(arm);
            did.add("arm");
        }

        @Override
        public void cancel(TimerCommand.Cancel cancel) {
            did.add("cancel");
        }

        @Override
        public XaResult run(XaCall call) {
            did.add("xa " + call.op());
            duringXa.accept(call);
            return answers.getOrDefault(call.op(), XaResult.OK);
        }

        @Override
        public Optional<List<BranchKey>> recover(String resourceId) {
            did.add("recover " + resourceId);
            return Optional.of(listed);
        }

        @Override
        public void send(String server, Event message) {
            did.add("send " + server + " " + message.getClass().getSimpleName());
            sent.add(message);
        }

        @Override
        public void problem(String description) {
            did.add("problem");
        }

        @Override
        public void ended(BranchKey key, boolean clean) {
            did.add(clean ? "ended clean" : "ended evicted");
        }
    }

    private final World world = new World();
    private final ParticipantDriver driver = new ParticipantDriver(new Participant(ParticipantConfig.of("agent-1", List.of(DB), 60_000)),
            world, () -> 1_000L);

    private void enlistWritten(BranchKey key) {
        driver.drive(new ParticipantEvent.Enlisted(key, DB, NODE));
        driver.drive(new ParticipantEvent.Released(key, true, false));
    }

    private void command(BranchKey key, Action a, long timeout) {
        driver.drive(new ParticipantEvent.Command(NODE, key, a, timeout, 1_000));
    }

    @Test
    void aPrepareRunsEndThenPrepareAndVotesOnTheCommandsStream() {
        enlistWritten(KEY);

        command(KEY, Action.PREPARE, 0);

        assertThat(world.did).containsExactly("xa END", "xa PREPARE", "send node-1 VoteReceived");
        assertThat(((Event.VoteReceived) world.sent.get(0)).vote()).isEqualTo(Vote.YES);
        assertThat(driver.state(KEY)).get().isInstanceOf(BranchState.Prepared.class);
    }

    @Test
    void theCallersOwnCommandIsAnsweredToItNotOnAStream() {
        driver.drive(new ParticipantEvent.Enlisted(KEY, DB, null));
        driver.drive(new ParticipantEvent.Released(KEY, true, false));

        List<Event> answers = driver.drive(new ParticipantEvent.CallerCommand(KEY, Action.PREPARE, 0, 1_000));

        assertThat(answers).singleElement().isInstanceOfSatisfying(Event.VoteReceived.class, v -> assertThat(v.vote()).isEqualTo(Vote.YES));
        assertThat(world.sent).isEmpty();
    }

    @Test
    void aBranchsCallsStopAtTheFirstFailure() {
        enlistWritten(KEY);
        world.answers.put(XaOp.END, XaResult.FAILED);

        command(KEY, Action.PREPARE, 0);

        // PREPARE never ran after the failed END; the core rolls back and votes NO
        assertThat(world.did).doesNotContain("xa PREPARE").contains("xa ROLLBACK");
        assertThat(world.sent).singleElement().isInstanceOfSatisfying(Event.VoteReceived.class, v -> assertThat(v.vote()).isEqualTo(Vote.NO));
    }

    @Test
    void aFailedEndFailDoesNotStopTheRollbackAfterIt() {
        enlistWritten(KEY);
        world.answers.put(XaOp.END_FAIL, XaResult.FAILED);

        driver.drive(new ParticipantEvent.Abandoned(KEY));

        // ended, but its connection is evicted: XA END (TMFAIL) did not succeed on it
        assertThat(world.did).containsExactly("xa END_FAIL", "xa ROLLBACK", "ended evicted");
        assertThat(driver.state(KEY)).get().isEqualTo(new BranchState.Ended(BranchState.End.ROLLED_BACK));
    }

    @Test
    void aPrepareWhoseAnswerWasLostIsRolledBackByTheResultItFedBack() {
        enlistWritten(KEY);
        world.answers.put(XaOp.PREPARE, XaResult.UNAVAILABLE);

        command(KEY, Action.PREPARE, 0);

        // the XaCompleted of PREPARE went back to the core, which asked for a rollback by xid before voting NO
        assertThat(world.did).containsExactly("xa END", "xa PREPARE", "xa ROLLBACK", "send node-1 VoteReceived", "ended clean");
        assertThat(((Event.VoteReceived) world.sent.get(0)).vote()).isEqualTo(Vote.NO);
    }

    @Test
    void anOwnDecisionIsJournaledBeforeItsXaCallAndReportedAfterIt() {
        enlistWritten(KEY);
        driver.drive(new ParticipantEvent.Connected(NODE, 1_000));
        command(KEY, Action.CAN_COMMIT, 5_000);
        command(KEY, Action.PRE_COMMIT, 5_000);
        world.did.clear();
        world.sent.clear();

        driver.fired(world.armed.get(world.armed.size() - 1));

        assertThat(world.did).containsExactly("journal COMMIT", "xa COMMIT", "ended clean", "send node-1 AckReceived");
        Event.AckReceived ack = (Event.AckReceived) world.sent.get(0);
        assertThat(ack.autonomous()).isTrue();
        assertThat(ack.action()).isEqualTo(Action.COMMIT);
        assertThat(ack.result()).isEqualTo(AckResult.DONE);
    }

    @Test
    void aBranchLetsGoOfItsConnectionOnlyWhenTheCoreEndsIt() {
        enlistWritten(KEY);

        command(KEY, Action.PREPARE, 0);
        assertThat(world.did).doesNotContain("ended clean", "ended evicted");
        command(KEY, Action.COMMIT, 0);

        assertThat(world.did).containsOnlyOnce("ended clean").endsWith("xa COMMIT", "ended clean", "send node-1 AckReceived");
    }

    @Test
    void aStaleTimerChangesNothing() {
        enlistWritten(KEY);
        command(KEY, Action.CAN_COMMIT, 5_000);
        TimerCommand.Arm first = world.armed.get(0);
        command(KEY, Action.PRE_COMMIT, 5_000); // re-arms
        world.did.clear();

        driver.fired(first);

        assertThat(world.did).isEmpty();
    }

    @Test
    void xaRecoverListingsComeBackAsRecoveredAndUnknownBranchesAreAskedAbout() {
        world.listed = List.of(OTHER);

        driver.drive(new ParticipantEvent.Connected(NODE, 1_000));

        assertThat(world.did).containsExactly("recover orders-db", "send node-1 Inquiry");
        assertThat(((Event.Inquiry) world.sent.get(0)).gtrid()).isEqualTo(OTHER.gtrid());
    }

    @Test
    void theLockIsNotHeldWhileAnXaCallRuns() {
        enlistWritten(KEY);
        enlistWritten(OTHER);
        List<Boolean> otherStepped = new ArrayList<>();
        world.duringXa = c -> {
            if (c.key().equals(KEY) && c.op() == XaOp.PREPARE) {
                // another thread's event for another branch steps while this XA call runs
                CompletableFuture<Void> f = CompletableFuture.runAsync(() -> driver.drive(new ParticipantEvent.Held(OTHER)));
                try {
                    f.get(5, TimeUnit.SECONDS);
                    otherStepped.add(true);
                } catch (Exception e) {
                    otherStepped.add(false);
                }
            }
        };

        command(KEY, Action.PREPARE, 0);

        assertThat(otherStepped).containsExactly(true);
        assertThat(driver.state(OTHER)).get().isInstanceOfSatisfying(BranchState.Active.class, a -> assertThat(a.holders()).isEqualTo(1));
    }

    @Test
    void aCommandForAWorkingBranchWaitsForTheResend() {
        enlistWritten(KEY);
        List<List<String>> seenDuring = new ArrayList<>();
        world.duringXa = c -> {
            if (c.op() == XaOp.PREPARE && seenDuring.isEmpty()) {
                int before = world.did.size();
                seenDuring.add(List.of()); // once
                command(KEY, Action.PREPARE, 0); // a resend racing the running PREPARE: from another thread in life
                seenDuring.set(0, List.copyOf(world.did.subList(before, world.did.size())));
            }
        };

        command(KEY, Action.PREPARE, 0);

        assertThat(seenDuring.get(0)).as("no XA call and no answer for the resend while the branch works").isEmpty();
        assertThat(world.sent).hasSize(1);
    }
}
