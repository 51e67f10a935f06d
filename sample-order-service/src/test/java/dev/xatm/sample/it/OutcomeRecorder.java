package dev.xatm.sample.it;

import dev.xatm.testkit.ServerProcess;
import dev.xatm.testkit.TestDb;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Everything the tm-servers of one shared store say about each gtrid while a failure test runs, so
 * that afterwards the test can tell whether any xid ever had two outcomes.
 *
 * <p>Two sources, polled in the background because both forget: the store's decision table (rows
 * are purged a minute after completion) and every watched server's admin list (the newest 1000
 * only; a killed server's memory dies with it). The store is read every 250 ms, each watched
 * server every second; a server is watched only while the test says it can answer (a frozen one
 * would only make the poll wait). {@link #pollNow()} takes one more round of both at once.
 *
 * <p>Thread-safe: one scheduler thread polls, the test thread watches, unwatches and reads.
 */
final class OutcomeRecorder implements AutoCloseable {
    /** The store's outcome codes (sql/tm-server/&#42;/V1): 1 COMMIT, 2 ABORT, 3 PRE_COMMIT, 4 HEURISTICS. */
    static final int STORE_COMMIT = 1;
    static final int STORE_ABORT = 2;
    static final int STORE_HEURISTICS = 4;

    private static final int ADMIN_LIMIT = 1000;

    private final TestDb store;
    private final String storePrefix;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private final JsonMapper json = JsonMapper.builder().build();
    private final Map<Integer, ServerProcess> watched = new ConcurrentHashMap<>();
    /**
     * gtrid -> "OUTCOME@node" for every outcome any server ever listed: COMMITTED (finished),
     * COMMITTING (decided here, maybe not yet durable), ROLLED_BACK, TIMED_OUT, HEURISTIC_HAZARD.
     */
    private final Map<String, Set<String>> adminOutcomes = new ConcurrentHashMap<>();
    /** gtrid -> "STATUS@node" for heuristic statuses seen (the branches may disagree). */
    private final Map<String, Set<String>> heuristics = new ConcurrentHashMap<>();
    /** xid -> store outcome codes ever seen for it. */
    private final Map<String, Set<Integer>> storeOutcomes = new ConcurrentHashMap<>();
    private final List<String> pollErrors = new CopyOnWriteArrayList<>();
    private final AtomicInteger adminPolls = new AtomicInteger();
    private final AtomicInteger storePolls = new AtomicInteger();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "outcome-recorder");
        t.setDaemon(true);
        return t;
    });

    OutcomeRecorder(TestDb store, String storePrefix) {
        this.store = store;
        this.storePrefix = storePrefix;
    }

    OutcomeRecorder start() {
        scheduler.scheduleWithFixedDelay(this::pollStoreQuietly, 0, 250, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::pollAdminsQuietly, 500, 1000, TimeUnit.MILLISECONDS);
        return this;
    }

    /** From now on, server {@code nodeId}'s admin list is recorded. */
    void watch(int nodeId, ServerProcess server) {
        watched.put(nodeId, server);
    }

    /** Stops polling a server that is about to be killed or frozen; takes its last list first. */
    void unwatch(int nodeId) {
        ServerProcess s = watched.remove(nodeId);
        if (s != null) {
            pollAdmin(nodeId, s);
        }
    }

    /** One more round of both sources, on the calling thread (the scheduler may run too; both only add). */
    void pollNow() {
        pollStoreQuietly();
        watched.forEach(this::pollAdmin);
    }

    Map<String, Set<String>> adminOutcomes() {
        return snapshot(adminOutcomes);
    }

    Map<String, Set<Integer>> storeOutcomes() {
        return snapshot(storeOutcomes);
    }

    Map<String, Set<String>> heuristics() {
        return snapshot(heuristics);
    }

    List<String> pollErrors() {
        return List.copyOf(pollErrors);
    }

    String summary() {
        return adminPolls.get() + " admin lists and " + storePolls.get() + " store reads: " + adminOutcomes.size()
                + " gtrids with an outcome on some server, " + storeOutcomes.size() + " decision rows, " + pollErrors.size()
                + " failed polls";
    }

    /**
     * Gtrids with a commit on one side and a rollback on another, from every source together: two
     * servers' lists, or a server's list against the store's row, or two store rows over time. A
     * commit is a store COMMIT row or a server's FINISHED_COMMITTED; a rollback is any server's
     * ROLLED_BACK or TIMED_OUT (an abort needs nothing durable) or a store ABORT row.
     */
    Map<String, String> conflicts() {
        Map<String, String> out = new TreeMap<>();
        Map<String, Set<String>> admin = adminOutcomes();
        Map<String, Set<Integer>> rows = storeOutcomes();
        Set<String> gtrids = new TreeSet<>(admin.keySet());
        gtrids.addAll(rows.keySet());
        for (String gtrid : gtrids) {
            Set<String> said = admin.getOrDefault(gtrid, Set.of());
            Set<Integer> codes = rows.getOrDefault(gtrid, Set.of());
            boolean commit = said.stream().anyMatch(s -> s.startsWith("COMMITTED@")) || codes.contains(STORE_COMMIT);
            boolean rollback = said.stream().anyMatch(OutcomeRecorder::isRollback) || codes.contains(STORE_ABORT);
            if (commit && rollback) {
                out.put(gtrid, "servers said " + said + ", store rows " + codes);
            }
        }
        return out;
    }

    /** A rolled-back outcome as the admin API names it ("ROLLED_BACK@2", "TIMED_OUT@3"). */
    static boolean isRollback(String outcomeAtNode) {
        return outcomeAtNode.startsWith("ROLLED_BACK@") || outcomeAtNode.startsWith("TIMED_OUT@");
    }

    private void pollStoreQuietly() {
        try {
            pollStore();
        } catch (SQLException | RuntimeException e) {
            pollErrors.add("store: " + e.getMessage());
        }
    }

    private void pollStore() throws SQLException {
        try (Connection c = store.open(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT xid, outcome FROM " + storePrefix + "decision")) {
            while (rs.next()) {
                storeOutcomes.computeIfAbsent(rs.getString(1), k -> ConcurrentHashMap.newKeySet()).add(rs.getInt(2));
            }
        }
        storePolls.incrementAndGet();
    }

    private void pollAdminsQuietly() {
        watched.forEach(this::pollAdmin);
    }

    private void pollAdmin(int nodeId, ServerProcess server) {
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort()
                            + "/api/v1/transactions?limit=" + ADMIN_LIMIT))
                    .header("Authorization", "Bearer " + server.adminToken()).timeout(Duration.ofSeconds(3)).GET().build();
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                pollErrors.add("admin of node " + nodeId + ": " + r.statusCode() + " " + r.body());
                return;
            }
            for (JsonNode t : json.readTree(r.body())) {
                String gtrid = t.get("xid").asString();
                String status = t.get("status").asString();
                if (t.hasNonNull("outcome")) {
                    String outcome = t.get("outcome").asString();
                    // COMMITTING is also shown while the decision is still on its way to the store:
                    // a server killed or fenced right then never decided it. A commit counts once
                    // finished here or once its row is in the store (polled 4 times a second, and
                    // rows stay a minute after completion, so no durable commit goes unseen).
                    if (outcome.equals("COMMITTED") && !status.equals("FINISHED_COMMITTED")) {
                        outcome = "COMMITTING";
                    }
                    adminOutcomes.computeIfAbsent(gtrid, k -> ConcurrentHashMap.newKeySet()).add(outcome + "@" + nodeId);
                }
                if (status.startsWith("FINISHED_HEURISTIC")) {
                    heuristics.computeIfAbsent(gtrid, k -> ConcurrentHashMap.newKeySet()).add(status + "@" + nodeId);
                }
            }
            adminPolls.incrementAndGet();
        } catch (IOException | RuntimeException e) {
            pollErrors.add("admin of node " + nodeId + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static <V> Map<String, Set<V>> snapshot(Map<String, Set<V>> m) {
        Map<String, Set<V>> out = new HashMap<>();
        m.forEach((k, v) -> out.put(k, Set.copyOf(new ArrayList<>(v))));
        return out;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
