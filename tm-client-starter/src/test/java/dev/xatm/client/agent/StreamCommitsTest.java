package dev.xatm.client.agent;

import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.CommitAnswer;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StreamCommitsTest {
    private final StreamCommits commits = new StreamCommits();
    private final List<AgentMessage> sent = new CopyOnWriteArrayList<>();

    private final CountDownLatch firstSending = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    /** Records each message; the first send blocks until {@link #release}, so later requests queue behind it. */
    private final Predicate<AgentMessage> slowFirstSend = m -> {
        sent.add(m);
        if (sent.size() == 1) {
            firstSending.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return true;
    };

    private static CommitRequest request(String gtrid) {
        return CommitRequest.newBuilder().setGtrid(gtrid).build();
    }

    private static CommitAnswer committed(String gtrid) {
        return CommitAnswer.newBuilder().setGtrid(gtrid).setOutcome(OutcomeResponse.newBuilder().setOutcome(Outcome.COMMITTED)).build();
    }

    @Test
    void requestsQueuedWhileAnotherThreadSendsLeaveInOneMessage() throws Exception {
        CompletableFuture<CompletableFuture<CommitAnswer>> first = CompletableFuture.supplyAsync(() -> commits.submit(request("g0"), slowFirstSend));
        assertThat(firstSending.await(5, TimeUnit.SECONDS)).isTrue();
        for (int i = 1; i <= 5; i++) {
            commits.submit(request("g" + i), slowFirstSend); // the sender is busy: these only queue
        }
        assertThat(sent).hasSize(1);
        release.countDown();
        first.get(5, TimeUnit.SECONDS);

        assertThat(sent).extracting(m -> m.getCommits().getRequestsCount()).as("the busy sender took the five along").containsExactly(1, 5);
        assertThat(commits.waitingCount()).isEqualTo(6);
    }

    @Test
    void answersCompleteTheirOwnCallerOnly() throws Exception {
        CompletableFuture<CommitAnswer> a = commits.submit(request("a"), sent::add);
        CompletableFuture<CommitAnswer> b = commits.submit(request("b"), sent::add);
        commits.answered(committed("b"));
        assertThat(b.get(1, TimeUnit.SECONDS).getGtrid()).isEqualTo("b");
        assertThat(a).isNotDone();
        commits.answered(committed("unknown-gtrid")); // a late answer for an abandoned request: dropped
        assertThat(commits.waitingCount()).isEqualTo(1);
    }

    @Test
    void aSecondRequestForAWaitingGtridIsAProgrammingError() {
        commits.submit(request("a"), sent::add);
        assertThatThrownBy(() -> commits.submit(request("a"), sent::add)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void withNoStreamTheRequestNeverLeft() {
        CompletableFuture<CommitAnswer> f = commits.submit(request("a"), m -> false);
        assertThat(f).isCompletedExceptionally();
        assertThatThrownBy(f::join).cause().isInstanceOfSatisfying(StreamCommits.StreamLost.class, lost -> assertThat(lost.sent).isFalse());
        assertThat(commits.waitingCount()).isZero();
    }

    @Test
    void aLostStreamFailsEveryWaitingRequestAsPossiblySent() {
        CompletableFuture<CommitAnswer> a = commits.submit(request("a"), sent::add);
        CompletableFuture<CommitAnswer> b = commits.submit(request("b"), sent::add);
        commits.streamLost("UNAVAILABLE");
        for (CompletableFuture<CommitAnswer> f : List.of(a, b)) {
            assertThatThrownBy(f::join).cause().isInstanceOfSatisfying(StreamCommits.StreamLost.class, lost -> {
                assertThat(lost.sent).isTrue();
                assertThat(lost).hasMessageContaining("UNAVAILABLE");
            });
        }
        assertThat(commits.waitingCount()).isZero();
    }

    @Test
    void aBurstIsSplitIntoMessagesOfAtMostTheBatchLimit() throws Exception {
        CompletableFuture<?> first = CompletableFuture.supplyAsync(() -> commits.submit(request("first"), slowFirstSend));
        assertThat(firstSending.await(5, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < StreamCommits.BATCH_MAX + 10; i++) {
            commits.submit(request("g" + i), slowFirstSend);
        }
        release.countDown();
        first.get(5, TimeUnit.SECONDS);
        assertThat(sent).extracting(m -> m.getCommits().getRequestsCount()).containsExactly(1, StreamCommits.BATCH_MAX, 10);
    }
}
