package dev.xatm.sample.it;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.testkit.ServerProcess;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 8's failure test: three real tm-server processes (nodes 1, 2, 3) on one PostgreSQL JDBC
 * store (a table prefix of its own), the real sample-order-service under concurrent order load
 * (shard 0 on PostgreSQL, shard 1 on MariaDB; TM_TEST_* variables, skipped loudly without them,
 * failed under CI=true), and two failures while the load runs:
 *
 * <ol>
 *   <li>{@code kill -9} of node 1. The service lists the servers 1, 2, 3 and its gRPC channel
 *       picks the first that answers (pick_first), so node 1 carries all the traffic when it
 *       dies: its in-flight commits are the ones at stake. (Should the client spread its calls
 *       over every server, node 1 still dies with its share in flight.) Node 2 or node 3 takes
 *       it over.</li>
 *   <li>SIGSTOP of node 2, which now carries the traffic, for three lease ttls; node 3 takes it
 *       over. SIGCONT: node 2 must find itself fenced and halt with status 3 (docs/ha.md).</li>
 * </ol>
 *
 * The load goes on on the survivor for a while, stops, both nodes are restarted (they rejoin as
 * new incarnations), and once nothing moves any more:
 *
 * <ul>
 *   <li>for every product: initial stock = remaining stock + ordered quantity over both shards;</li>
 *   <li>every 201 is an order row, no 409 or "rolled_back" 503 is; answers that leave the caller
 *       unsure come only from the commits in flight at the failures;</li>
 *   <li>two-phase orders (order and stock on different shards, decided by a server) go on
 *       committing after each failure;</li>
 *   <li>no prepared branch with our format id and gtrid prefix on either database, and no decision
 *       row left open in the store (every decided transaction was carried out);</li>
 *   <li>no xid with two outcomes: what every server's admin API ever listed (recorded while the
 *       servers lived, {@link OutcomeRecorder}), the store's decision rows over time, and the
 *       answers the service gave;</li>
 *   <li>the takeover times, measured and printed: from the SIGKILL and from the SIGSTOP to the
 *       survivor's {@code TAKEOVER:} log line.</li>
 * </ul>
 *
 * <p>Every check once the load runs is soft (all of them run and all failures are reported
 * together): a run that breaks one invariant should still say which others held. Logs of every
 * process: target/it-logs/three-servers-*.log.
 */
@RequiresDatabases
class ThreeServersIT {
    private static final long LEASE_TTL_MS = 2_000;
    /** How long node 2 stays frozen: well past its lease, so a survivor must take it over meanwhile. */
    private static final long FREEZE_MS = 3 * LEASE_TTL_MS;
    private static final int PRODUCTS = 6;
    /** Far more than the run can sell (so most orders commit and reach the coordinator), far less than OrderLoad.TOO_MANY. */
    private static final int INITIAL_STOCK = 20_000;
    private static final int THREADS = 4;
    private static final int MAX_ATTEMPTS = 6_000;
    /** Orders committed across both shards (two-phase, decided by a server) before the first failure, and after each. */
    private static final int CREATED_BEFORE_FAILURE = 30;
    private static final int CREATED_AFTER_FAILURE = 15;
    /**
     * Answers that leave the caller unsure ("outcome_unknown", a broken connection) may come from
     * the commits in flight at each of the two failures, at most one per sender thread each; twice
     * that is the bound. More means the service's answers stopped being trustworthy outside the
     * failures themselves.
     */
    private static final int UNKNOWN_ANSWERS_MAX = 2 * 2 * THREADS;
    private static final Duration PROGRESS_WAIT = Duration.ofSeconds(30);
    private static final Duration TAKEOVER_WAIT = Duration.ofSeconds(30);
    private static final Duration QUIESCENCE = Duration.ofSeconds(45);
    private static final List<String> SHOP_TABLES = List.of("orders", "inventory", "order_id_block", "shard_identity", "flyway_schema_history");
    private static final List<String> STORE_TABLES = List.of("decision", "node", "cluster", "operator_action", "schema_history");
    private static final Pattern TAKEOVER_LINE = Pattern.compile(
            "TAKEOVER: node (\\d+) \\(epoch (\\d+)\\) took over node (\\d+) \\(epoch (\\d+) -> (\\d+)\\): adopted (\\d+) open transactions,"
                    + " (-?\\d+) ms after its lease expired");
    private static final Pattern LOG_TIME = Pattern.compile("^(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:Z|[+-]\\d{2}:?\\d{2}))");

    private final String unique = Unique.suffix();
    private final String storePrefix = "tm3s" + unique + "_";
    private final String tablePrefix = "so3s" + unique + "_";
    private final String gtridPrefix = "so3s" + unique;
    private final String token = UUID.randomUUID().toString();
    private final Map<Integer, ServerProcess> servers = new TreeMap<>();
    private TestDatabases dbs;
    private ServerProcess frozen;
    private ServiceProcess service;
    private OrderLoad load;
    private OutcomeRecorder recorder;

    /** One TAKEOVER line: who took whom over, and when it showed up. */
    private record Takeover(int byNode, long byEpoch, int deadNode, long fromEpoch, long toEpoch, int adopted, long millisAfterExpiry,
                            long seenAfterMillis, Long loggedAfterMillis) {
        long millis() {
            return loggedAfterMillis != null ? loggedAfterMillis : seenAfterMillis;
        }
    }

    @Test
    void threeServersKeepEveryInvariantThroughAKillAndAFreezeUnderLoad() throws Exception {
        dbs = TestDatabases.require();
        startServers();
        recorder = new OutcomeRecorder(dbs.postgres(), storePrefix).start();
        servers.forEach(recorder::watch);
        service = startService();
        // From here on every check is soft: all of them run, and all failures are reported together.
        SoftAssertions softly = new SoftAssertions();

        load = new OrderLoad(service.baseUrl(), PRODUCTS, 8).start(THREADS, MAX_ATTEMPTS);
        if (!within(Duration.ofSeconds(60), () -> load.createdAcrossShards() >= CREATED_BEFORE_FAILURE)) {
            List<String> lastFailures = load.resultsSoFar().stream().filter(r -> r.kind() != OrderLoad.Kind.CREATED && r.kind() != OrderLoad.Kind.REJECTED)
                    .map(r -> r.status() + " " + r.body()).toList();
            throw new AssertionError("only " + load.createdAcrossShards() + " of " + CREATED_BEFORE_FAILURE + " two-phase orders committed in 60 s"
                    + " before any failure (" + load.created() + " orders in all); the last other answers:\n"
                    + String.join("\n", lastFailures.subList(Math.max(0, lastFailures.size() - 3), lastFailures.size())));
        }

        // ---- failure 1: kill -9 of node 1, the server every call and agent stream goes to
        ServerProcess node1 = servers.get(1);
        long node1Epoch = epochOf(1);
        Map<Integer, Integer> logMarks = logMarks();
        recorder.unwatch(1);
        Instant killedAt = Instant.now();
        long killedNanos = System.nanoTime();
        node1.kill9();
        Takeover first = awaitTakeover(softly, 1, List.of(2, 3), logMarks, killedAt, killedNanos);
        if (first != null) {
            System.out.println("TAKEOVER TIME (kill -9 of node 1): " + first.millis() + " ms from SIGKILL to node " + first.byNode()
                    + "'s TAKEOVER line (log time stamp; polling saw it after " + first.seenAfterMillis() + " ms); adopted "
                    + first.adopted() + " open transactions, " + first.millisAfterExpiry()
                    + " ms after the lease expired (database clock); lease ttl " + LEASE_TTL_MS + " ms");
            softly.assertThat(first.fromEpoch()).as("node 1 is taken over from the epoch it had when it died").isEqualTo(node1Epoch);
        }
        softly.assertThat(awaitProgress("after the kill -9")).as(CREATED_AFTER_FAILURE + " more two-phase orders committed within "
                + PROGRESS_WAIT + " after the kill -9 (the service fails over to a live server)").isTrue();

        // ---- failure 2: node 2 (it carries the traffic now) frozen past its lease, then woken up
        ServerProcess node2 = servers.get(2);
        long node2Epoch = epochOf(2);
        logMarks = logMarks();
        recorder.unwatch(2);
        Instant frozenAt = Instant.now();
        long frozenNanos = System.nanoTime();
        node2.sigstop();
        frozen = node2;
        // node 1 is dead, so only node 3 can take node 2 over
        Takeover second = awaitTakeover(softly, 2, List.of(3), logMarks, frozenAt, frozenNanos);
        // frozen for FREEZE_MS in all, whenever the takeover came: the zombie must wake up well past its lease
        TimeUnit.NANOSECONDS.sleep(Math.max(0, frozenNanos + TimeUnit.MILLISECONDS.toNanos(FREEZE_MS) - System.nanoTime()));
        if (second != null) {
            System.out.println("TAKEOVER TIME (SIGSTOP of node 2): " + second.millis() + " ms from SIGSTOP to node " + second.byNode()
                    + "'s TAKEOVER line (log time stamp; polling saw it after " + second.seenAfterMillis() + " ms); adopted "
                    + second.adopted() + " open transactions, " + second.millisAfterExpiry()
                    + " ms after the lease expired (database clock); lease ttl " + LEASE_TTL_MS + " ms, frozen for "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenNanos) + " ms");
            softly.assertThat(second.fromEpoch()).as("node 2 is taken over from the epoch it had when it froze").isEqualTo(node2Epoch);
        }
        node2.sigcont();
        frozen = null;
        awaitFencedExit(softly, node2);
        softly.assertThat(awaitProgress("after node 2 was frozen and fenced")).as(CREATED_AFTER_FAILURE + " more two-phase orders committed"
                + " within " + PROGRESS_WAIT + " after node 2 woke up fenced (the service fails over to node 3)").isTrue();

        load.stop();
        List<OrderLoad.Result> results = load.finish(Duration.ofSeconds(60));
        long loadEndNanos = System.nanoTime();

        // ---- both come back as new incarnations
        CompletableFuture<Void> back1 = CompletableFuture.runAsync(node1::restart);
        CompletableFuture<Void> back2 = CompletableFuture.runAsync(node2::restart);
        for (CompletableFuture<Void> back : List.of(back1, back2)) {
            try {
                back.get(150, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                softly.fail("a restart after the takeover failed: " + e.getCause().getMessage(), e.getCause());
            }
        }
        recorder.watch(1, node1);
        recorder.watch(2, node2);

        awaitQuiescence(softly);
        recorder.pollNow();
        recorder.close();
        long quietMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - loadEndNanos);

        ShardContents shop = ShardContents.read(dbs.both(), tablePrefix);
        Map<OrderLoad.Kind, Long> kinds = results.stream().collect(Collectors.groupingBy(OrderLoad.Result::kind, TreeMap::new, Collectors.counting()));
        System.out.println("[three servers] " + results.size() + " answers " + kinds + " (" + load.createdAcrossShards()
                + " of the 201s two-phase), " + shop.orders().size() + " order rows, stock "
                + new TreeMap<>(shop.stock()) + "; quiet " + quietMillis + " ms after the load stopped; " + recorder.summary());
        System.out.println("[three servers] longest time without a 201: " + longestGapMillis(results, killedNanos, frozenNanos)
                + " ms between the kill -9 and the SIGSTOP, " + longestGapMillis(results, frozenNanos, loadEndNanos)
                + " ms between the SIGSTOP and the end of the load (node 2 frozen " + FREEZE_MS + " ms)");

        checkStockAndAnswers(softly, results, shop);
        checkOneOutcomePerXid(softly, results);
        checkRejoined(softly, 1, node1Epoch, node1);
        checkRejoined(softly, 2, node2Epoch, node2);
        for (ServerProcess s : servers.values()) {
            softly.assertThat(s.output()).as("tm-server log " + s.logFile() + " never contains the auth token").doesNotContain(token);
        }
        softly.assertThat(service.output()).as("the service never logs the coordinators' token").doesNotContain(token);
        softly.assertAll();
    }

    /**
     * After SIGCONT the zombie must see that it was taken over and halt with status 3 (docs/ha.md).
     * One that goes on running is killed, so the rest of the test sees two live servers and a restartable node.
     */
    private static void awaitFencedExit(SoftAssertions softly, ServerProcess zombie) {
        long wokenNanos = System.nanoTime();
        try {
            int status = zombie.awaitExit(Duration.ofSeconds(30));
            System.out.println("FENCED: node 2 exited with status " + status + " "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - wokenNanos) + " ms after SIGCONT");
            softly.assertThat(status).as("a fenced node halts with status 3 (docs/ha.md)").isEqualTo(3);
        } catch (AssertionError stillRunning) {
            softly.fail("node 2 still runs 30 s after SIGCONT, though it was taken over: " + stillRunning.getMessage());
            zombie.kill9();
        }
        softly.assertThat(zombie.output()).as("node 2 says it was fenced (log " + zombie.logFile() + ")").contains("FENCED");
    }

    // ------------------------------------------------------------------ the processes

    /** Node 1 alone first (it applies the store's schema), then nodes 2 and 3 side by side. */
    private void startServers() throws Exception {
        servers.put(1, ServerProcess.start("three-servers-node1", serverProperties(1)));
        CompletableFuture<ServerProcess> s2 = CompletableFuture.supplyAsync(() -> ServerProcess.start("three-servers-node2", serverProperties(2)));
        CompletableFuture<ServerProcess> s3 = CompletableFuture.supplyAsync(() -> ServerProcess.start("three-servers-node3", serverProperties(3)));
        try {
            servers.put(2, s2.get(150, TimeUnit.SECONDS));
        } finally {
            // whatever happened to node 2, a started node 3 must be closed by the clean-up
            servers.put(3, s3.get(150, TimeUnit.SECONDS));
        }
    }

    private Map<String, String> serverProperties(int nodeId) {
        TestDb pg = dbs.postgres();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("tm.server.store", "jdbc");
        p.put("tm.server.jdbc.url", pg.url());
        p.put("tm.server.jdbc.username", pg.user());
        p.put("tm.server.jdbc.password", pg.password());
        p.put("tm.server.jdbc.table-prefix", storePrefix);
        p.put("tm.server.jdbc.lease-ttl-ms", Long.toString(LEASE_TTL_MS));
        p.put("tm.server.node-id", Integer.toString(nodeId));
        p.put("tm.server.server-id", "tm-" + nodeId);
        // one client token for the cluster: the service's agent fails over between the servers
        p.put("tm.server.auth-token", token);
        p.put("tm.server.retry-initial-ms", "100");
        p.put("tm.server.retry-max-ms", "1000");
        p.put("tm.server.keepalive-ms", "2000");
        return p;
    }

    /** The sample service on fresh tables, shard 0 on PostgreSQL and shard 1 on MariaDB, listing the servers 1, 2, 3 in that order. */
    private ServiceProcess startService() {
        TestDb pg = dbs.postgres();
        TestDb maria = dbs.mariadb();
        Map<String, String> p = new HashMap<>();
        p.put("sample.shard0.url", pg.url());
        p.put("sample.shard0.username", pg.user());
        p.put("sample.shard1.url", maria.url());
        p.put("sample.shard1.username", maria.user());
        p.put("sample.table-prefix", tablePrefix);
        p.put("sample.products", Integer.toString(PRODUCTS));
        p.put("sample.initial-stock", Integer.toString(INITIAL_STOCK));
        p.put("tm.client.server-address", servers.values().stream().map(ServerProcess::grpcTarget).collect(Collectors.joining(",")));
        p.put("tm.client.gtrid-prefix", gtridPrefix);
        p.put("tm.client.agent-id", "three-servers-" + unique);
        p.put("tm.client.commit-timeout-ms", "20000");
        // a frozen server keeps its sockets open: only the keep-alive notices it is gone
        p.put("tm.client.keepalive-ms", "1000");
        p.put("tm.client.reconnect-backoff-max-ms", "1000");
        Map<String, String> secrets = Map.of(
                "SAMPLE_SHARD0_PASSWORD", pg.password(),
                "SAMPLE_SHARD1_PASSWORD", maria.password(),
                "TM_CLIENT_AUTH_TOKEN", token);
        return ServiceProcess.start("three-servers-service", p, secrets);
    }

    /** How long each live server's log is now, so a later search sees only what came after. */
    private Map<Integer, Integer> logMarks() {
        Map<Integer, Integer> marks = new HashMap<>();
        servers.forEach((node, s) -> {
            if (s.isAlive()) {
                marks.put(node, s.output().length());
            }
        });
        return marks;
    }

    /**
     * The first TAKEOVER line about {@code deadNode} that one of {@code candidates} logs after
     * {@code marks}, or null (and a soft failure) after {@link #TAKEOVER_WAIT}. Timed twice: by polling, and by the line's
     * own log timestamp against the wall-clock instant of the failure (same machine, same clock).
     */
    private Takeover awaitTakeover(SoftAssertions softly, int deadNode, List<Integer> candidates, Map<Integer, Integer> marks, Instant failedAt,
                                   long failedNanos) {
        Takeover[] found = new Takeover[1];
        try {
            await("a TAKEOVER of node " + deadNode + " by one of nodes " + candidates).atMost(TAKEOVER_WAIT).pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        for (int node : candidates) {
                            String out = servers.get(node).output();
                            Matcher m = TAKEOVER_LINE.matcher(out);
                            int from = Math.min(marks.getOrDefault(node, 0), out.length());
                            while (m.find(from)) {
                                from = m.end();
                                if (Integer.parseInt(m.group(3)) == deadNode) {
                                    found[0] = takeover(m, out, failedAt, failedNanos);
                                    return true;
                                }
                            }
                        }
                        return false;
                    });
        } catch (ConditionTimeoutException e) {
            StringBuilder logs = new StringBuilder();
            for (int node : candidates) {
                logs.append("\n--- node ").append(node).append(" (").append(servers.get(node).logFile()).append("):\n")
                        .append(servers.get(node).tail(30));
            }
            softly.fail("no TAKEOVER of node " + deadNode + " by one of nodes " + candidates + " within " + TAKEOVER_WAIT + logs);
            return null;
        }
        return found[0];
    }

    private static Takeover takeover(Matcher m, String out, Instant failedAt, long failedNanos) {
        long seen = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failedNanos);
        int lineStart = out.lastIndexOf('\n', m.start()) + 1;
        Long logged = null;
        Matcher time = LOG_TIME.matcher(out.substring(lineStart, m.start()));
        if (time.find()) {
            try {
                logged = Duration.between(failedAt, OffsetDateTime.parse(time.group(1)).toInstant()).toMillis();
            } catch (DateTimeParseException notIso) {
                // a log pattern without an ISO time stamp: the polled time is all there is
            }
        }
        return new Takeover(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)), Integer.parseInt(m.group(3)), Long.parseLong(m.group(4)),
                Long.parseLong(m.group(5)), Integer.parseInt(m.group(6)), Long.parseLong(m.group(7)), seen, logged);
    }

    /**
     * Whether {@link #CREATED_AFTER_FAILURE} more two-phase orders (the ones a server must decide;
     * a one-phase order commits without one) commit within {@link #PROGRESS_WAIT}; prints how long it took.
     */
    private boolean awaitProgress(String when) {
        int before = load.createdAcrossShards();
        long start = System.nanoTime();
        boolean progressed = within(PROGRESS_WAIT, () -> load.createdAcrossShards() >= before + CREATED_AFTER_FAILURE);
        System.out.println("[three servers] " + (load.createdAcrossShards() - before) + " two-phase orders committed " + when + " in "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms" + (progressed ? "" : " (fewer than expected)"));
        return progressed;
    }

    private static boolean within(Duration atMost, BooleanSupplier condition) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(condition::getAsBoolean);
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /**
     * Nothing of ours prepared on either database, and every decision in the store carried out
     * (completed), both within {@link #QUIESCENCE} in all; each one that does not happen is reported.
     */
    private void awaitQuiescence(SoftAssertions softly) {
        long deadline = System.nanoTime() + QUIESCENCE.toNanos();
        try {
            dbs.awaitNothingPrepared(gtridPrefix, QUIESCENCE);
        } catch (AssertionError | ConditionTimeoutException e) {
            softly.fail("prepared branches left " + QUIESCENCE + " after the load stopped: " + e.getMessage(), e);
        }
        Duration left = Duration.ofNanos(Math.max(deadline - System.nanoTime(), Duration.ofSeconds(2).toNanos()));
        try {
            await("every decision row in the store completed").atMost(left).pollInterval(Duration.ofMillis(250))
                    .untilAsserted(() -> assertThat(openDecisions()).as("open rows of " + storePrefix + "decision").isEmpty());
        } catch (AssertionError | ConditionTimeoutException e) {
            softly.fail("decisions not carried out " + QUIESCENCE + " after the load stopped: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ the checks

    private void checkStockAndAnswers(SoftAssertions softly, List<OrderLoad.Result> results, ShardContents shop) {
        List<String> unknown = results.stream().filter(r -> r.kind() == OrderLoad.Kind.UNKNOWN).map(r -> r.status() + " " + r.body()).toList();
        softly.assertThat(unknown).as("answers that leave the caller unsure, at most " + UNKNOWN_ANSWERS_MAX
                + " (the commits in flight at the two failures)").hasSizeLessThanOrEqualTo(UNKNOWN_ANSWERS_MAX);
        softly.assertThat(results).as("some orders were over stock").anyMatch(r -> r.kind() == OrderLoad.Kind.REJECTED && r.quantity() == OrderLoad.TOO_MANY);
        softly.assertThat(results).as("no request was refused as invalid").noneMatch(r -> r.status() == 400);
        for (ShardContents.Order o : shop.orders().values()) {
            softly.assertThat(o.shard()).as("order " + o.id() + " lives on its user's shard").isEqualTo(Math.floorMod(o.userId(), 2));
        }

        // the business invariant, per product, over both shards
        softly.assertThat(shop.stock().keySet()).as("products").containsExactlyInAnyOrderElementsOf(
                java.util.stream.LongStream.rangeClosed(1, PRODUCTS).boxed().toList());
        Map<Long, Integer> ordered = shop.orders().values().stream()
                .collect(Collectors.groupingBy(ShardContents.Order::productId, Collectors.summingInt(ShardContents.Order::quantity)));
        for (long p = 1; p <= PRODUCTS; p++) {
            int stock = shop.stock().getOrDefault(p, 0);
            softly.assertThat(stock + ordered.getOrDefault(p, 0))
                    .as("product %d: initial stock = remaining %d + ordered %d", p, stock, ordered.getOrDefault(p, 0))
                    .isEqualTo(INITIAL_STOCK);
        }

        // every answer agrees with the databases
        Set<Long> unknownIds = new HashSet<>();
        int unknownWithoutId = 0;
        for (OrderLoad.Result r : results) {
            switch (r.kind()) {
                case CREATED -> {
                    ShardContents.Order row = shop.orders().get(r.orderId());
                    softly.assertThat(row).as("order " + r.orderId() + " answered 201 (" + r.body() + ") exists").isNotNull();
                    if (row != null) {
                        softly.assertThat(List.of(row.userId(), row.productId(), (long) row.quantity()))
                                .as("order " + r.orderId() + " is what was asked").containsExactly(r.userId(), r.productId(), (long) r.quantity());
                    }
                }
                case REJECTED, ROLLED_BACK -> {
                    if (r.orderId() != null) {
                        softly.assertThat(shop.orders()).as("order " + r.orderId() + " answered " + r.status() + " (" + r.body() + ") does not exist")
                                .doesNotContainKey(r.orderId());
                    }
                }
                case UNKNOWN -> {
                    if (r.orderId() != null) {
                        unknownIds.add(r.orderId());
                    } else {
                        unknownWithoutId++;
                    }
                }
                case NOT_SENT -> {
                    // never reached the service
                }
            }
        }
        Set<Long> createdIds = results.stream().filter(r -> r.kind() == OrderLoad.Kind.CREATED).map(OrderLoad.Result::orderId)
                .collect(Collectors.toSet());
        List<Long> unexplained = shop.orders().keySet().stream().filter(id -> !createdIds.contains(id) && !unknownIds.contains(id)).toList();
        softly.assertThat(unexplained.size())
                .as("order rows without a 201 come only from requests whose outcome the caller could not know: " + unexplained)
                .isLessThanOrEqualTo(unknownWithoutId);
    }

    /**
     * No xid with two outcomes: between servers, between a server and the store, and between the
     * service's answer and any of them. An answer with an outcome the caller can trust (201, 409,
     * "rolled_back") names its gtrid, which no server and no store row may contradict.
     */
    private void checkOneOutcomePerXid(SoftAssertions softly, List<OrderLoad.Result> results) {
        softly.assertThat(recorder.adminOutcomes()).as("the servers' admin APIs listed some outcomes (" + recorder.summary() + ")").isNotEmpty();
        softly.assertThat(recorder.storeOutcomes()).as("the servers wrote commit decisions to the shared store (" + recorder.summary() + ")")
                .isNotEmpty();
        Map<String, OrderLoad.Result> answers = new HashMap<>();
        results.stream().filter(r -> r.xid() != null).forEach(r -> answers.put(r.xid(), r));
        Map<String, String> conflicts = new TreeMap<>();
        recorder.conflicts().forEach((gtrid, why) -> conflicts.put(gtrid, why + "; the caller got "
                + (answers.containsKey(gtrid) ? answers.get(gtrid).status() + " " + answers.get(gtrid).body() : "no answer naming it")));
        softly.assertThat(conflicts).as("gtrids with a commit and a rollback, over every server's admin API and the store").isEmpty();
        softly.assertThat(recorder.heuristics()).as("gtrids with a heuristic outcome (branches may disagree)").isEmpty();
        softly.assertThat(recorder.storeOutcomes().entrySet().stream().filter(e -> e.getValue().contains(OutcomeRecorder.STORE_HEURISTICS))
                .map(Map.Entry::getKey).toList()).as("decision rows held for an operator (HEURISTICS)").isEmpty();
        Map<String, Set<String>> said = recorder.adminOutcomes();
        Map<String, Set<Integer>> rows = recorder.storeOutcomes();
        Map<String, String> contradicted = new TreeMap<>();
        for (OrderLoad.Result r : results) {
            if (r.xid() == null) {
                continue;
            }
            Set<String> servers = said.getOrDefault(r.xid(), Set.of());
            Set<Integer> codes = rows.getOrDefault(r.xid(), Set.of());
            boolean committedSomewhere = servers.stream().anyMatch(s -> s.startsWith("COMMITTED@")) || codes.contains(OutcomeRecorder.STORE_COMMIT);
            boolean rolledBackSomewhere = servers.stream().anyMatch(OutcomeRecorder::isRollback) || codes.contains(OutcomeRecorder.STORE_ABORT);
            boolean contradiction = switch (r.kind()) {
                case CREATED -> rolledBackSomewhere;
                case REJECTED, ROLLED_BACK -> committedSomewhere;
                default -> false;
            };
            if (contradiction) {
                contradicted.put(r.xid(), "answered " + r.status() + " " + r.body() + "; servers said " + servers + ", store rows " + codes);
            }
        }
        softly.assertThat(contradicted).as("gtrids whose answer to the caller a server or the store contradicts").isEmpty();
    }

    /** A node restarted after a takeover is a new incarnation: a higher epoch, nobody's takeover, a live lease. */
    private void checkRejoined(SoftAssertions softly, int nodeId, long epochBeforeFailure, ServerProcess server) throws SQLException {
        softly.assertThat(server.isAlive()).as("node " + nodeId + " runs again").isTrue();
        try (Connection c = dbs.postgres().open(); PreparedStatement s = c.prepareStatement(
                "SELECT epoch, taken_by, expires_at > now() FROM " + storePrefix + "node WHERE node_id = ?")) {
            s.setInt(1, nodeId);
            try (ResultSet r = s.executeQuery()) {
                softly.assertThat(r.next()).as("node " + nodeId + "'s lease row").isTrue();
                softly.assertThat(r.getLong(1)).as("node " + nodeId + "'s epoch after the takeover and the restart")
                        .isGreaterThan(epochBeforeFailure + 1);
                r.getInt(2);
                softly.assertThat(r.wasNull()).as("node " + nodeId + " is nobody's takeover any more").isTrue();
                softly.assertThat(r.getBoolean(3)).as("node " + nodeId + " holds a live lease").isTrue();
            }
        }
    }

    // ------------------------------------------------------------------ reading the store and the shards

    private long epochOf(int nodeId) throws SQLException {
        try (Connection c = dbs.postgres().open(); PreparedStatement s = c.prepareStatement(
                "SELECT epoch FROM " + storePrefix + "node WHERE node_id = ?")) {
            s.setInt(1, nodeId);
            try (ResultSet r = s.executeQuery()) {
                assertThat(r.next()).as("node " + nodeId + "'s lease row").isTrue();
                return r.getLong(1);
            }
        }
    }

    /** "xid outcome owner@epoch" of every row not yet completed. */
    private List<String> openDecisions() throws SQLException {
        List<String> open = new ArrayList<>();
        try (Connection c = dbs.postgres().open(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(
                "SELECT xid, outcome, owner_node, owner_epoch FROM " + storePrefix + "decision WHERE completed_at IS NULL ORDER BY decided_at")) {
            while (r.next()) {
                open.add(r.getString(1) + " outcome " + r.getInt(2) + " owned by " + r.getInt(3) + "@" + r.getLong(4));
            }
        }
        return open;
    }

    /** The longest time without a 201 answer between {@code fromNanos} and {@code toNanos} (the outage as the callers saw it). */
    private static long longestGapMillis(List<OrderLoad.Result> results, long fromNanos, long toNanos) {
        List<Long> times = new ArrayList<>();
        times.add(fromNanos);
        results.stream().filter(r -> r.kind() == OrderLoad.Kind.CREATED && r.answeredNanos() > fromNanos && r.answeredNanos() < toNanos)
                .map(OrderLoad.Result::answeredNanos).sorted().forEach(times::add);
        times.add(toNanos);
        long gap = 0;
        for (int i = 1; i < times.size(); i++) {
            gap = Math.max(gap, times.get(i) - times.get(i - 1));
        }
        return TimeUnit.NANOSECONDS.toMillis(gap);
    }

    // ------------------------------------------------------------------ clean-up

    @AfterEach
    void cleanUp() throws SQLException {
        if (load != null) {
            load.stop();
        }
        if (recorder != null) {
            recorder.close();
        }
        if (frozen != null) {
            frozen.sigcont(); // a stopped process ignores SIGTERM until it runs again
        }
        if (service != null) {
            service.close();
        }
        servers.values().forEach(ServerProcess::close);
        if (dbs == null) {
            return;
        }
        for (TestDb db : dbs.both()) {
            db.rollbackLeftovers(gtridPrefix);
            for (String table : SHOP_TABLES) {
                db.dropTable(tablePrefix + table);
            }
        }
        for (String table : STORE_TABLES) {
            dbs.postgres().dropTable(storePrefix + table);
        }
    }
}
