package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.Outbound;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.cluster.Verdict;
import org.junit.jupiter.api.Test;

import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shared store's answer to an inquiry about a gtrid this coordinator does not own
 * ({@link Event.StoreVerdict}): the core, not the transport, turns it into the phase command.
 */
class StoreVerdictTest {
    private final Fixture f = new Fixture();

    private static Event.StoreVerdict verdict(String gtrid, Verdict v) {
        return new Event.StoreVerdict(gtrid, "b1", "db1", "a1", v);
    }

    @Test
    void aCommitRowIsSentAsCommitToTheAskingAgentAndNothingIsRemembered() {
        // The owner (or its adopter) drives the transaction; this server only relays the row's outcome.
        assertThat(f.step(verdict("other:1.1", Verdict.COMMIT)).messages())
                .containsExactly(new Outbound("a1", "other:1.1", "b1", Action.COMMIT));
        assertThat(f.c.status("other:1.1")).isEqualTo(TxnStatus.UNKNOWN);
    }

    @Test
    void aFencedOwnerWithoutARowIsAPresumedAbortThatIsRemembered() {
        // No COMMIT can ever exist: ROLLBACK, and a later commit request here hears rolled back.
        assertThat(f.step(verdict("other:1.1", Verdict.ROLLBACK)).messages())
                .containsExactly(new Outbound("a1", "other:1.1", "b1", Action.ROLLBACK));
        assertThat(f.c.status("other:1.1")).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
    }

    @Test
    void askOwnerSendsNothing() {
        // The owner may still decide: any answer from here would be a guess.
        assertThat(f.step(verdict("other:1.1", Verdict.ASK_OWNER)).isEmpty()).isTrue();
        assertThat(f.c.status("other:1.1")).isEqualTo(TxnStatus.UNKNOWN);
    }

    @Test
    void aGtridKnownHereByNowIsAnsweredFromTheStateMachineNotFromTheVerdict() {
        // Adopted (or replayed) meanwhile: the core's own knowledge wins over a verdict read before it.
        f.committing("g1");
        assertThat(f.step(verdict("g1", Verdict.ROLLBACK)).messages()).containsExactly(cmd("g1", 1, Action.COMMIT));
    }

    @Test
    void aMalformedVerdictIsRefusedAsAnInquiryWouldBe() {
        // Checks the validation path: nothing is sent for a gtrid that cannot be one of ours.
        var e = f.step(new Event.StoreVerdict("bad gtrid", "b1", "db1", "a1", Verdict.COMMIT));
        assertThat(e.messages()).isEmpty();
        assertThat(e.replies()).singleElement().isInstanceOfSatisfying(Reply.Rejected.class,
                r -> assertThat(r.request()).isEqualTo(RequestKind.INQUIRY));
    }
}
