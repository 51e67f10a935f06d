package dev.xatm.client.agent;

import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.TmSystemException;
import dev.xatm.client.coordinator.OutcomeReport;
import dev.xatm.client.coordinator.PreparedBranch;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.Verdict;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The agent with a stream to each of several tm-servers of one cluster (fakes that name their node
 * and epoch in the Welcome): gtrids name a connected owner and are spread over the servers, TM calls
 * and answers go to the owner, losing one server touches only that server's branches (its unprepared
 * ones are rolled back, its prepared ones resumed through another server), announced members get a
 * link and a duplicate link is closed.
 */
class ClusterAgentTest {
    ClusterHarness h;

    void start(int servers, int configured, int extraChannels) throws Exception {
        h = new ClusterHarness(servers, configured, extraChannels);
        h.agent.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    void awaitConnected(int links) {
        await().atMost(Duration.ofSeconds(10)).until(() -> h.agent.links().stream().filter(Agent.LinkStatus::connected).count() == links);
    }

    static String owned(int node, String unique) {
        return new GtridOwner(node, ClusterHarness.EPOCH).tag("xatm:" + unique);
    }

    /** Each gtrid names a connected server as its owner, in turn, and stays within 64 characters. */
    @Test
    void gtridsAreTaggedWithConnectedOwnersInTurn() throws Exception {
        start(3, 3, 0);
        awaitConnected(3);
        List<Integer> owners = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            String gtrid = h.minter.next();
            assertThat(gtrid).startsWith("xatm:tag.").hasSizeLessThanOrEqualTo(64);
            GtridOwner owner = GtridOwner.of(gtrid).orElseThrow(() -> new AssertionError("untagged: " + gtrid));
            assertThat(owner.epoch()).isEqualTo(ClusterHarness.EPOCH);
            owners.add(owner.nodeId());
        }
        Map<Integer, Long> perNode = owners.stream().collect(Collectors.groupingBy(n -> n, Collectors.counting()));
        assertThat(perNode).containsOnlyKeys(1, 2, 3).allSatisfy((node, n) -> assertThat(n).isEqualTo(3L));

        // a server that is down owns nothing new
        h.node(2).breakStream(true);
        await().atMost(Duration.ofSeconds(10)).until(() -> !h.agent.links().get(1).connected());
        for (int i = 0; i < 6; i++) {
            assertThat(GtridOwner.of(h.minter.next()).orElseThrow().nodeId()).isNotEqualTo(2);
        }
    }

    /** With node ids known and no server connected, no gtrid is minted: an untagged one would have no owner. */
    @Test
    void noGtridWithoutAConnectedServerInACluster() throws Exception {
        start(1, 1, 0);
        awaitConnected(1);
        h.node(1).breakStream(true);
        await().atMost(Duration.ofSeconds(10)).until(() -> !h.agent.isConnected());
        long start = System.nanoTime();
        assertThatThrownBy(h.minter::next).isInstanceOf(TmSystemException.class).hasMessageContaining("none of the tm-servers");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1_900));
    }

    /**
     * Register, commit and the answers to commands go to the owner's server only; while the owner's
     * link is down the call fails at once without reaching any other server, and a FAILED_PRECONDITION
     * (a server that does not own the gtrid) reads as rolled back.
     */
    @Test
    void tmCallsAndAnswersGoToTheOwner() throws Exception {
        start(2, 2, 0);
        awaitConnected(2);
        String gtrid = owned(2, "route.1");
        TmXid xid = h.insert(gtrid, 1);
        assertThat(h.node(2).registrations).extracting(r -> r.getGtrid()).containsExactly(gtrid);
        assertThat(h.node(1).registrations).isEmpty();

        h.node(2).command(gtrid, xid.bqual(), PhaseAction.PREPARE);
        assertThat(h.node(2).next().getVote().getVote()).as("answered on the link the command came on").isEqualTo(BranchVote.YES);
        assertThat(h.access.commit(gtrid, false).outcome()).isEqualTo(GlobalOutcome.COMMITTED);
        assertThat(h.node(2).commits).extracting(c -> c.getGtrid()).containsExactly(gtrid);
        assertThat(h.node(1).commits).isEmpty();
        h.node(2).command(gtrid, xid.bqual(), PhaseAction.COMMIT);
        assertThat(h.node(2).next().getAck().getResult()).isEqualTo(dev.xatm.protocol.v1.AckResult.DONE);

        // acks of the callers' own commits go to the owner too
        String own = owned(1, "route.2");
        TmXid ownXid = h.insert(own, 2);
        Branch b = h.table.get(ownXid);
        h.agent.runForCaller(b, BranchCommand.PREPARE);
        h.agent.acknowledge(b, BranchCommand.COMMIT, h.agent.runForCaller(b, BranchCommand.COMMIT));
        AgentMessage batch = h.node(1).next();
        assertThat(batch.getAcks().getAcksList()).extracting(a -> a.getGtrid()).containsExactly(own);
        assertThat(h.node(2).poll(200)).isNull();

        h.node(1).commitFailure = Status.FAILED_PRECONDITION.withDescription("node 1 (epoch 8) does not own it");
        OutcomeReport refused = h.access.commitPrepared(owned(1, "route.3"), "n", 1_000, "agent-1",
                List.of(new PreparedBranch("b", "h2", PreparedBranch.Vote.YES)));
        assertThat(refused.outcome()).isEqualTo(GlobalOutcome.ROLLED_BACK);

        h.node(2).breakStream(true);
        await().atMost(Duration.ofSeconds(10)).until(() -> !h.agent.links().get(1).connected());
        long start = System.nanoTime();
        assertThatThrownBy(() -> h.access.commit(owned(2, "route.4"), false)).isInstanceOf(TmSystemException.class)
                .hasMessageContaining("not sent").hasMessageContaining("node 2");
        assertThatThrownBy(() -> h.access.status(owned(2, "route.4"))).isInstanceOf(TmSystemException.class)
                .hasMessageContaining("unreachable").hasMessageContaining("node 2");
        assertThat(h.access.commitPrepared(owned(2, "route.5"), "n", 1_000, "agent-1",
                List.of(new PreparedBranch("b", "h2", PreparedBranch.Vote.YES))).outcome())
                .as("never sent, so never decided").isEqualTo(GlobalOutcome.ROLLED_BACK);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
        assertThat(h.node(1).commits).extracting(c -> c.getGtrid()).containsExactly(owned(1, "route.3"));
        assertThat(h.node(2).commits).hasSize(1);
    }

    /**
     * Losing node 2's link rolls back node 2's registered unprepared branches, and no other server's;
     * node 2's prepared branches are asked about with Resume on node 1: COMMIT commits the branch in
     * the database, ASK_OWNER is asked again; when node 2 is back, its Welcome's Inquiry takes over.
     */
    @Test
    void losingAServerRollsBackItsUnpreparedBranchesAndResumesItsPreparedOnes() throws Exception {
        start(2, 2, 0);
        awaitConnected(2);
        TmXid onOne = h.insert(owned(1, "loss.1"), 1);
        TmXid unprepared = h.insert(owned(2, "loss.2"), 2);
        TmXid decided = h.insert(owned(2, "loss.3"), 3);
        TmXid undecided = h.insert(owned(2, "loss.4"), 4);
        for (TmXid x : List.of(decided, undecided)) {
            h.node(2).command(x.gtrid(), x.bqual(), PhaseAction.PREPARE);
            assertThat(h.node(2).next().getVote().getVote()).isEqualTo(BranchVote.YES);
        }
        h.node(1).verdicts.put(decided.gtrid(), Verdict.VERDICT_COMMIT);

        h.node(2).breakStream(true);

        await().atMost(Duration.ofSeconds(10)).until(() -> h.table.get(unprepared).state() == Branch.State.ROLLED_BACK);
        await().atMost(Duration.ofSeconds(10)).until(() -> h.rows().contains(3L));
        assertThat(h.table.get(decided).state()).isEqualTo(Branch.State.COMMITTED);
        await("ASK_OWNER asked again").atMost(Duration.ofSeconds(10)).until(() -> h.node(1).resumes.stream()
                .filter(r -> r.getBranchesList().stream().anyMatch(i -> i.getGtrid().equals(undecided.gtrid()))).count() >= 3);
        assertThat(h.node(1).resumes).allSatisfy(r -> assertThat(r.getBranchesList()).extracting(Inquiry::getGtrid)
                .doesNotContain(onOne.gtrid(), unprepared.gtrid()));
        assertThat(h.table.get(undecided).state()).isEqualTo(Branch.State.PREPARED);
        assertThat(h.table.get(onOne).state()).as("node 1's branch is left alone").isEqualTo(Branch.State.ACTIVE);
        assertThat(h.preparedInH2()).containsExactly(undecided);

        // node 2 is back: its Welcome asks about the branch it owns, on its own stream
        h.node(2).fromAgent.clear();
        h.node(2).releaseWelcome();
        await().atMost(Duration.ofSeconds(10)).until(() -> h.agent.links().get(1).connected());
        AgentMessage inquiry = h.node(2).next();
        assertThat(inquiry.getInquiry().getGtrid()).isEqualTo(undecided.gtrid());
        await().atMost(Duration.ofSeconds(5)).until(() -> h.agent.pendingResumes() == 0);
        h.node(2).command(undecided.gtrid(), undecided.bqual(), PhaseAction.ROLLBACK);
        assertThat(h.node(2).next().getAck().getAction()).isEqualTo(PhaseAction.ROLLBACK);
        assertThat(h.preparedInH2()).isEmpty();
        h.table.get(onOne).execute(BranchCommand.ROLLBACK); // tidy up
        assertThat(h.rows()).containsExactly(3L);
    }

    /**
     * Prepared branches XA RECOVER finds after a restart: one whose owner is connected is asked about
     * on the owner's stream; one whose owner has no link is asked about with Resume on a connected
     * server, and its COMMIT verdict commits it in the database.
     */
    @Test
    void xaRecoverAsksTheOwnerOrResumesElsewhere() throws Exception {
        h = new ClusterHarness(2, 2, 0);
        TmXid ownedByTwo = new TmXid(owned(2, "recover.1"), "b1.old");
        TmXid ownedByThree = new TmXid(owned(3, "recover.2"), "b1.old");
        h.prepareOutsideTheAgent(ownedByTwo, 21);
        h.prepareOutsideTheAgent(ownedByThree, 31);
        assertThat(h.preparedInH2()).containsExactlyInAnyOrder(ownedByTwo, ownedByThree);
        h.node(1).verdicts.put(ownedByThree.gtrid(), Verdict.VERDICT_COMMIT);
        h.node(2).verdicts.put(ownedByThree.gtrid(), Verdict.VERDICT_COMMIT);
        h.agent.start();
        awaitConnected(2);

        await().atMost(Duration.ofSeconds(10)).until(() -> h.rows().contains(31L));
        assertThat(h.preparedInH2()).containsExactly(ownedByTwo);
        List<Inquiry> toTwo = h.node(2).inquiries(500);
        assertThat(toTwo).extracting(Inquiry::getGtrid).contains(ownedByTwo.gtrid()).doesNotContain(ownedByThree.gtrid());
        assertThat(h.node(1).inquiries(100)).extracting(Inquiry::getGtrid).doesNotContain(ownedByTwo.gtrid());
        // (Not finished here: H2 does not reliably finish a second branch by xid while the sessions that
        // prepared them are open. The Resume verdict's commit above is the path under test.)
        assertThat(h.rows()).containsExactly(31L);
    }

    /**
     * Servers without node ids (file stores; several addresses of one service): gtrids stay untagged
     * and go to the primary link, the first connected one in configuration order.
     */
    @Test
    void untaggedGtridsGoToTheFirstConnectedLinkInConfigurationOrder() throws Exception {
        h = new ClusterHarness(2, 2, 0, false);
        h.node(1).holdWelcome();
        h.agent.start();
        awaitConnected(1);
        String first = h.minter.next();
        assertThat(GtridOwner.of(first)).isEmpty();
        h.insert(first, 1);
        assertThat(h.node(2).registrations).extracting(r -> r.getGtrid()).containsExactly(first);

        h.node(1).releaseWelcome();
        awaitConnected(2);
        String second = h.minter.next();
        assertThat(GtridOwner.of(second)).isEmpty();
        h.insert(second, 2);
        assertThat(h.node(1).registrations).extracting(r -> r.getGtrid()).containsExactly(second);
        assertThat(h.node(2).registrations).hasSize(1);
    }

    /**
     * 3PC: the owner is gone after PRE_COMMIT; the branch's timer commits it, and the report goes to
     * the owner's stream once it is back, not to the server that stayed.
     */
    @Test
    void anOwnDecisionIsReportedToTheOwnerWhenItIsBack() throws Exception {
        start(2, 2, 0);
        awaitConnected(2);
        TmXid xid = h.insert(owned(2, "own.1"), 1);
        h.node(2).command(xid.gtrid(), xid.bqual(), PhaseAction.CAN_COMMIT, 600_000);
        assertThat(h.node(2).next().getVote().getVote()).isEqualTo(BranchVote.YES);
        h.node(2).command(xid.gtrid(), xid.bqual(), PhaseAction.PRE_COMMIT, 1_000);
        assertThat(h.node(2).next().getVote().getVote()).isEqualTo(BranchVote.YES);

        h.node(2).breakStream(true);
        await().atMost(Duration.ofSeconds(10)).until(() -> h.table.get(xid).state() == Branch.State.COMMITTED);
        assertThat(h.rows()).containsExactly(1L);
        // another server's Welcome meanwhile keeps the report for the owner
        h.node(1).breakStream(false);
        await().atMost(Duration.ofSeconds(10)).until(() -> h.node(1).hellos.get() == 2 && h.agent.links().get(0).connected());
        assertThat(h.node(1).poll(300)).as("nothing to the server that does not own it").isNull();

        h.node(2).releaseWelcome();
        // Other traffic of the Welcome (an inquiry after the recovery scan, say) may come first: the
        // report is the first ack about this gtrid, and it must be the own decision.
        List<dev.xatm.protocol.v1.AgentMessage> before = new java.util.ArrayList<>();
        dev.xatm.protocol.v1.AgentMessage m = h.node(2).next();
        while (!(m.hasAck() && m.getAck().getGtrid().equals(xid.gtrid())) && before.size() < 10) {
            before.add(m);
            m = h.node(2).next();
        }
        dev.xatm.protocol.v1.Ack ack = m.getAck();
        assertThat(ack.getAutonomous()).as("first ack about %s after %s", xid.gtrid(), before).isTrue();
        assertThat(ack.getAction()).isEqualTo(PhaseAction.COMMIT);
        assertThat(ack.getGtrid()).isEqualTo(xid.gtrid());
        assertThat(h.node(1).poll(300)).isNull();
    }

    /**
     * A server the cluster stops listing as a lease holder (frozen past its lease, cut off from the
     * store, taken over) gets no new gtrids while its stream still looks up, and gets them again once
     * it is listed; a list naming nobody connected changes nothing.
     */
    @Test
    void aServerWithoutALiveLeaseGetsNoNewGtrids() throws Exception {
        start(3, 3, 0);
        awaitConnected(3);
        var all = List.of(h.node(1).member(), h.node(2).member(), h.node(3).member());
        var without2 = List.of(h.node(1).member(), h.node(3).member());
        for (int n = 1; n <= 3; n++) {
            h.node(n).members = without2;
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> mintedOwners(6).stream().noneMatch(node -> node == 2));
        assertThat(h.agent.links().get(1).connected()).as("node 2's stream is still up").isTrue();
        assertThat(mintedOwners(12)).doesNotContain(2).contains(1, 3);

        for (int n = 1; n <= 3; n++) {
            h.node(n).members = all;
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> mintedOwners(6).contains(2));

        var nobodyConnected = List.of(h.node(1).member().toBuilder().setEpoch(ClusterHarness.EPOCH + 7).build()); // a later node 1
        for (int n = 1; n <= 3; n++) {
            h.node(n).members = nobodyConnected;
        }
        Thread.sleep(600); // several refreshes
        assertThat(mintedOwners(9)).as("a stale list must not stop every transaction").contains(1, 2, 3);
    }

    /**
     * A connected server that two member lists in a row leave out (frozen past its lease, taken over)
     * has its connection dropped: a commit waiting on it ends at once as UNAVAILABLE, not at its
     * deadline, and the stream is opened afresh.
     */
    @Test
    void callsWaitingOnAServerThatLostItsLeaseEndWhenItIsDropped() throws Exception {
        start(3, 3, 0);
        awaitConnected(3);
        h.node(2).holdCommits = true;
        int hellosBefore = h.node(2).hellos.get();
        String gtrid = owned(2, "held-1");
        long start = System.nanoTime();
        java.util.concurrent.CompletableFuture<Object> call =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> h.access.commit(gtrid, false));
        await().atMost(Duration.ofSeconds(5)).until(() -> !h.node(2).commits.isEmpty());
        assertThat(call).isNotDone();

        var without2 = List.of(h.node(1).member(), h.node(3).member());
        for (int n = 1; n <= 3; n++) {
            h.node(n).members = without2;
        }

        assertThatThrownBy(() -> call.get(5, java.util.concurrent.TimeUnit.SECONDS))
                .hasRootCauseInstanceOf(io.grpc.StatusRuntimeException.class).hasMessageContaining("UNAVAILABLE");
        assertThat(java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                .as("ended by the drop, before the 2 s commit deadline").isLessThan(1_900);
        await().atMost(Duration.ofSeconds(5)).until(() -> h.node(2).hellos.get() > hellosBefore); // a fresh stream
    }

    private List<Integer> mintedOwners(int n) {
        List<Integer> owners = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            owners.add(GtridOwner.of(h.minter.next()).orElseThrow().nodeId());
        }
        return owners;
    }

    /** A server that joins later is learned from the periodic Members call and gets a link. */
    @Test
    void aMemberLearnedFromMembersGetsALink() throws Exception {
        start(3, 1, 0);
        awaitConnected(1);
        h.node(1).members = List.of(h.node(1).member(), h.node(2).member(), h.node(3).member());
        awaitConnected(3);
        assertThat(h.agent.links()).extracting(Agent.LinkStatus::nodeId).containsExactly(1, 2, 3);
    }

    /**
     * A vote one server answers NOT_FOUND makes the agent ask that server again about the prepared
     * branches it owns, and no other server about anything.
     */
    @Test
    void aNotFoundSweepAsksOnlyThatServerAboutItsBranches() throws Exception {
        start(2, 2, 0);
        awaitConnected(2);
        TmXid onOne = h.insert(owned(1, "nf.1"), 1);
        TmXid onTwo = h.insert(owned(2, "nf.2"), 2);
        h.node(1).command(onOne.gtrid(), onOne.bqual(), PhaseAction.PREPARE);
        assertThat(h.node(1).next().getVote().getVote()).isEqualTo(BranchVote.YES);
        h.node(2).command(onTwo.gtrid(), onTwo.bqual(), PhaseAction.PREPARE);
        assertThat(h.node(2).next().getVote().getVote()).isEqualTo(BranchVote.YES);

        h.node(2).error("NOT_FOUND", "not known");
        assertThat(h.node(2).next().getInquiry().getGtrid()).isEqualTo(onTwo.gtrid());
        assertThat(h.node(2).poll(300)).isNull();
        assertThat(h.node(1).poll(300)).isNull();
        for (TmXid x : List.of(onOne, onTwo)) {
            h.table.get(x).execute(BranchCommand.ROLLBACK); // tidy up
        }
    }

    /** A server the cluster announces in a Welcome, and that no link connects to yet, gets a link of its own. */
    @Test
    void anAnnouncedMemberGetsALink() throws Exception {
        h = new ClusterHarness(2, 1, 0);
        h.node(1).members = List.of(h.node(1).member(), h.node(2).member());
        h.agent.start();
        awaitConnected(2);
        assertThat(h.agent.links()).extracting(Agent.LinkStatus::nodeId).containsExactly(1, 2);
        assertThat(h.node(2).hellos.get()).isEqualTo(1);
        Thread.sleep(500); // several Members refreshes: no second link to either
        assertThat(h.agent.links()).hasSize(2);
    }

    /** Two configured addresses of one server: the second link welcomed as the same node is closed and stays closed. */
    @Test
    void aDuplicateLinkIsClosed() throws Exception {
        start(1, 1, 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> h.node(1).closedByAgent.get() == 1);
        assertThat(h.agent.links()).hasSize(1);
        assertThat(h.agent.links().get(0).connected()).isTrue();
        Thread.sleep(500); // the agent's backoff is 50..200 ms: a reconnect would have come by now
        assertThat(h.node(1).hellos.get()).isEqualTo(2);
        assertThat(h.agent.links()).hasSize(1);
    }
}
