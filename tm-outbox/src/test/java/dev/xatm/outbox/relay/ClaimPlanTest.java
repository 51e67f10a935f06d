package dev.xatm.outbox.relay;

import dev.xatm.outbox.OutboxMessage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The relay's order rule: a claimed row is sent only when every unsent row of its key with a lower
 * seq is claimed by the same relay. Scripted cases, then the real code against a naive oracle over
 * generated claims (two relays splitting one backlog at random).
 */
class ClaimPlanTest {
    @Test
    void everythingClaimedAndNothingElseUnsentIsSentInSeqOrder() {
        List<OutboxMessage> claimed = List.of(row(3, "a"), row(1, "a"), row(2, "b"));
        ClaimPlan plan = ClaimPlan.of(claimed, Map.of("a", seqs(1, 3), "b", seqs(2)));
        assertThat(plan.sendable()).extracting(OutboxMessage::seq).containsExactly(1L, 2L, 3L);
        assertThat(plan.heldBack()).isEmpty();
    }

    @Test
    void aKeyWhoseEarlierRowIsHeldElsewhereWaits() {
        // seq 1 of "a" is unsent but not ours (another relay locked it): 2 and 4 must not overtake it
        List<OutboxMessage> claimed = List.of(row(2, "a"), row(3, "b"), row(4, "a"));
        ClaimPlan plan = ClaimPlan.of(claimed, Map.of("a", seqs(1, 2, 4), "b", seqs(3)));
        assertThat(plan.sendable()).extracting(OutboxMessage::seq).containsExactly(3L);
        assertThat(plan.heldBack()).extracting(OutboxMessage::seq).containsExactly(2L, 4L);
    }

    @Test
    void aGapInTheMiddleSendsThePrefixOnly() {
        // ours: 1, 2, 5 of "a"; 3 is someone else's: 1 and 2 go, 5 waits
        List<OutboxMessage> claimed = List.of(row(1, "a"), row(2, "a"), row(5, "a"));
        ClaimPlan plan = ClaimPlan.of(claimed, Map.of("a", seqs(1, 2, 3, 5)));
        assertThat(plan.sendable()).extracting(OutboxMessage::seq).containsExactly(1L, 2L);
        assertThat(plan.heldBack()).extracting(OutboxMessage::seq).containsExactly(5L);
    }

    @Test
    void claimedRowsMissingFromTheReadStillCount() {
        // the read is not required to repeat the claimed rows
        ClaimPlan plan = ClaimPlan.of(List.of(row(7, "k")), Map.of());
        assertThat(plan.sendable()).extracting(OutboxMessage::seq).containsExactly(7L);
    }

    @Test
    void aSeqClaimedTwiceIsABug() {
        assertThatThrownBy(() -> ClaimPlan.of(List.of(row(1, "a"), row(1, "a")), Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("claimed twice");
    }

    @Test
    void agreesWithANaiveOracleOnGeneratedClaims() {
        for (long seed = 0; seed < 5000; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            int rows = 1 + r.nextInt(30);
            int keys = 1 + r.nextInt(5);
            List<OutboxMessage> ours = new ArrayList<>();
            Map<String, TreeSet<Long>> unsent = new HashMap<>();
            long maxOurs = 0;
            for (long seq = 1; seq <= rows; seq++) {
                String key = "k" + r.nextInt(keys);
                if (r.nextInt(4) == 0) {
                    continue; // already sent
                }
                unsent.computeIfAbsent(key, k -> new TreeSet<>()).add(seq);
                if (r.nextInt(3) != 0) { // ours; the rest belongs to another relay
                    ours.add(row(seq, key));
                    maxOurs = seq;
                }
            }
            final long max = maxOurs;
            Map<String, TreeSet<Long>> readBack = new HashMap<>();
            unsent.forEach((k, v) -> readBack.put(k, new TreeSet<>(v.headSet(max, true))));
            ClaimPlan plan = ClaimPlan.of(ours, readBack);
            List<Long> expected = oracle(ours, unsent);
            assertThat(plan.sendable()).as("seed " + seed).extracting(OutboxMessage::seq).containsExactlyElementsOf(expected);
            assertThat(plan.sendable().size() + plan.heldBack().size()).as("seed " + seed).isEqualTo(ours.size());
        }
    }

    /** Straight from the rule: sendable iff every lower unsent seq of the key is ours. */
    private static List<Long> oracle(List<OutboxMessage> ours, Map<String, TreeSet<Long>> unsent) {
        TreeSet<Long> ourSeqs = new TreeSet<>();
        ours.forEach(m -> ourSeqs.add(m.seq()));
        List<Long> result = new ArrayList<>();
        for (OutboxMessage m : ours) {
            boolean ok = true;
            for (long s : unsent.getOrDefault(m.key(), new TreeSet<>())) {
                if (s < m.seq() && !ourSeqs.contains(s)) {
                    ok = false;
                }
            }
            if (ok) {
                result.add(m.seq());
            }
        }
        result.sort(Long::compare);
        return result;
    }

    static OutboxMessage row(long seq, String key) {
        return new OutboxMessage(seq, "m" + seq, "q", key, "{}", Map.of(), 0);
    }

    private static TreeSet<Long> seqs(long... s) {
        TreeSet<Long> set = new TreeSet<>();
        for (long x : s) {
            set.add(x);
        }
        return set;
    }
}
