package dev.xatm.core.cluster;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Holds the cluster rules ({@link OwnerRule}, {@link StoreRules}, {@link LeaseRules}) against naive
 * oracles written from the sentences of the HA design, over generated node and decision rows (the
 * house pattern of VoteTallyPropertyTest). Small ranges of node ids and epochs make the interesting
 * coincidences (same node, same epoch, one epoch apart) frequent.
 */
class ClusterRulesPropertyTest {
    private static final int CASES = 50_000;

    /** "Only the owner decides"; a server of one decides only untagged gtrids. */
    private static boolean ownerOracle(NodeEpoch self, NodeEpoch owner) {
        if (self == null || owner == null) {
            return self == null && owner == null;
        }
        return self.nodeId() == owner.nodeId() && self.epoch() == owner.epoch();
    }

    /**
     * "A row exists: follow it (a PRE_COMMIT is still its owner's to drive); no row and the owner
     * fenced: ABORT; no row and the owner live: ask the owner. The owner itself answers from its core."
     */
    private static Verdict verdictOracle(NodeEpoch self, NodeEpoch owner, NodeRow ownerRow, DecisionRow row) {
        boolean asksItself = owner != null && self != null && owner.nodeId() == self.nodeId() && owner.epoch() == self.epoch();
        if (asksItself) {
            return Verdict.ASK_OWNER;
        }
        if (row != null && row.outcome() == DecisionRow.Outcome.COMMIT) {
            return Verdict.COMMIT;
        }
        if (row != null && row.outcome() == DecisionRow.Outcome.ROLLED_BACK) {
            return Verdict.ROLLBACK;
        }
        if (row != null) {
            return Verdict.ASK_OWNER;
        }
        boolean ownerCanStillInsert = owner != null && ownerRow != null && ownerRow.epoch() <= owner.epoch();
        return ownerCanStillInsert ? Verdict.ASK_OWNER : Verdict.ROLLBACK;
    }

    @Test
    void ownershipAndVerdictAgreeWithTheNaiveOraclesOnGeneratedRows() {
        SplittableRandom r = new SplittableRandom(20_261_207L);
        for (int i = 0; i < CASES; i++) {
            NodeEpoch self = r.nextInt(4) == 0 ? null : incarnation(r);
            NodeEpoch owner = r.nextInt(4) == 0 ? null : incarnation(r);
            NodeRow ownerRow = owner == null || r.nextInt(5) == 0 ? null
                    : new NodeRow(owner.nodeId(), r.nextLong(1, 5), r.nextLong(0, 100), r.nextInt(3) == 0 ? r.nextInt(1, 4) : 0);
            DecisionRow row = r.nextInt(3) == 0 ? null
                    : new DecisionRow("g", DecisionRow.Outcome.values()[r.nextInt(3)], owner);
            assertThat(OwnerRule.decides(self, owner)).as("case %d: self %s, owner %s", i, self, owner)
                    .isEqualTo(ownerOracle(self, owner));
            assertThat(StoreRules.verdict(self, owner, ownerRow, row))
                    .as("case %d: self %s, owner %s, owner row %s, decision %s", i, self, owner, ownerRow, row)
                    .isEqualTo(verdictOracle(self, owner, ownerRow, row));
        }
    }

    @Test
    void standingNamesWhyAGtridIsNotThisServers() {
        // Checks each refusal reason the transport words differently.
        NodeEpoch self = new NodeEpoch(2, 5);
        assertThat(OwnerRule.standing(null, null)).isEqualTo(OwnerRule.Standing.OWNER);
        assertThat(OwnerRule.standing(null, self)).isEqualTo(OwnerRule.Standing.NOT_A_CLUSTER);
        assertThat(OwnerRule.standing(self, null)).isEqualTo(OwnerRule.Standing.UNTAGGED);
        assertThat(OwnerRule.standing(self, new NodeEpoch(2, 5))).isEqualTo(OwnerRule.Standing.OWNER);
        assertThat(OwnerRule.standing(self, new NodeEpoch(2, 4))).isEqualTo(OwnerRule.Standing.OTHER_INCARNATION);
        assertThat(OwnerRule.standing(self, new NodeEpoch(3, 5))).isEqualTo(OwnerRule.Standing.ANOTHER_NODE);
    }

    @Test
    void fenceAndLeaseRulesAgreeWithTheNaiveOraclesOnGeneratedRows() {
        SplittableRandom r = new SplittableRandom(7_777L);
        long ttl = 20;
        for (int i = 0; i < CASES; i++) {
            NodeRow row = r.nextInt(6) == 0 ? null
                    : new NodeRow(r.nextInt(1, 4), r.nextLong(1, 4), r.nextLong(0, 100), r.nextInt(3) == 0 ? r.nextInt(1, 4) : 0);
            NodeEpoch writer = incarnation(r);
            int taker = r.nextInt(1, 4);
            long seen = r.nextLong(1, 4);
            long now = r.nextLong(0, 100);
            String c = "case " + i + ": row " + row + ", writer " + writer + ", taker " + taker + " saw " + seen + " at " + now;

            boolean admitted = row != null && row.nodeId() == writer.nodeId() && row.epoch() == writer.epoch();
            assertThat(StoreRules.fenceAdmits(row, writer)).as(c).isEqualTo(admitted);

            NodeRow renewed = LeaseRules.renew(row, writer, now, ttl);
            assertThat(renewed).as(c).isEqualTo(admitted ? new NodeRow(row.nodeId(), row.epoch(), now + ttl, row.takenBy()) : null);

            NodeRow claimed = LeaseRules.claim(row, writer.nodeId(), now, ttl);
            assertThat(claimed.epoch()).as(c).isEqualTo(row == null ? 1 : row.epoch() + 1);
            assertThat(claimed.takenBy()).as(c + ": a restart clears taken_by").isZero();

            if (row == null) {
                assertThat(LeaseRules.takeOver(null, taker, seen, now)).as(c).isNull();
                continue;
            }
            assertThat(LeaseRules.live(row, now)).as(c).isEqualTo(row.takenBy() == 0 && now < row.expiresAt());
            boolean wins = row.nodeId() != taker && row.takenBy() == 0 && row.expiresAt() < now && row.epoch() == seen;
            NodeRow taken = LeaseRules.takeOver(row, taker, seen, now);
            assertThat(taken).as(c).isEqualTo(wins ? new NodeRow(row.nodeId(), row.epoch() + 1, row.expiresAt(), taker) : null);
            if (taken != null) {
                // After a takeover no write of the dead incarnation lands, and its gtrids without a row are ROLLBACK for good.
                assertThat(StoreRules.fenceAdmits(taken, row.incarnation())).as(c).isFalse();
                assertThat(StoreRules.verdict(null, row.incarnation(), taken, null)).as(c).isEqualTo(Verdict.ROLLBACK);
                assertThat(LeaseRules.takeOver(taken, taker == 3 ? 2 : 3, seen, now)).as(c + ": exactly one survivor wins").isNull();
            }
        }
    }

    private static NodeEpoch incarnation(SplittableRandom r) {
        return new NodeEpoch(r.nextInt(1, 4), r.nextLong(1, 4));
    }
}
