package dev.xatm.core.commit;

import dev.xatm.core.Vote;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Holds {@link VoteTally} against a deliberately dumb oracle over many generated vote sets, the way
 * etcd raft's quorum/quick_test.go checks its vote counting.
 */
class VoteTallyPropertyTest {
    private static final int CASES = 50_000;

    /** Written from the protocol's sentences, not from the implementation. */
    private static VoteTally.Result oracle(int branchCount, List<Vote> received) {
        int no = 0;
        int yesOrReadOnly = 0;
        for (Vote v : received) {
            if (v == Vote.NO) {
                no++;
            } else {
                yesOrReadOnly++;
            }
        }
        if (no > 0) {
            return VoteTally.Result.ABORT;            // "any NO aborts"
        }
        if (yesOrReadOnly == branchCount) {
            return VoteTally.Result.COMMIT;           // "all votes in and no NO"
        }
        return VoteTally.Result.PENDING;
    }

    @Test
    void tallyAgreesWithTheNaiveOracleOnGeneratedVotes() {
        SplittableRandom random = new SplittableRandom(20_240_601L);
        Vote[] votes = Vote.values();
        for (int i = 0; i < CASES; i++) {
            int branchCount = random.nextInt(0, 9);
            int receivedCount = random.nextInt(0, branchCount + 1);
            List<Vote> received = new ArrayList<>();
            for (int j = 0; j < receivedCount; j++) {
                received.add(votes[random.nextInt(votes.length)]);
            }
            List<Vote> copy = List.copyOf(received);
            assertThat(VoteTally.outcome(branchCount, received))
                    .as("case %d: %d branches, votes %s", i, branchCount, received)
                    .isEqualTo(oracle(branchCount, received));
            assertThat(VoteTally.needsDecisionRecord(received)).isEqualTo(received.contains(Vote.YES));
            assertThat(received).as("the tally must not touch its input").isEqualTo(copy);
        }
    }

    @Test
    void tallyDoesNotDependOnTheOrderOfVotes() {
        SplittableRandom random = new SplittableRandom(7);
        Vote[] votes = Vote.values();
        for (int i = 0; i < 5_000; i++) {
            int n = random.nextInt(1, 7);
            List<Vote> received = new ArrayList<>();
            for (int j = 0; j < random.nextInt(0, n + 1); j++) {
                received.add(votes[random.nextInt(votes.length)]);
            }
            List<Vote> shuffled = new ArrayList<>(received);
            Collections.shuffle(shuffled, new java.util.Random(random.nextLong()));
            assertThat(VoteTally.outcome(n, shuffled)).isEqualTo(VoteTally.outcome(n, received));
        }
    }

    @Test
    void everyCombinationOfUpToFourVotesAgreesExhaustively() {
        Vote[] votes = Vote.values();
        for (int branchCount = 0; branchCount <= 4; branchCount++) {
            for (int received = 0; received <= branchCount; received++) {
                int combos = (int) Math.pow(votes.length, received);
                for (int code = 0; code < combos; code++) {
                    List<Vote> list = new ArrayList<>();
                    for (int k = 0, c = code; k < received; k++, c /= votes.length) {
                        list.add(votes[c % votes.length]);
                    }
                    assertThat(VoteTally.outcome(branchCount, list)).isEqualTo(oracle(branchCount, list));
                }
            }
        }
    }

    @Test
    void moreVotesThanBranchesIsACallerBug() {
        assertThatThrownBy(() -> VoteTally.outcome(1, List.of(Vote.YES, Vote.YES)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
