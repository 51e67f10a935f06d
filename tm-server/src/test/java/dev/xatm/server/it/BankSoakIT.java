package dev.xatm.server.it;

import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.CommitProtocol;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.testkit.TestDb;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The bank (G.42 in small): accounts on PostgreSQL and on MariaDB,
 * concurrent transfers between the two shards, each one global transaction, while a chaos thread
 * kills the server with SIGKILL (and restarts it on the same log) and crashes the agent (its streams
 * and database sessions vanish, as in a kill -9 of the business process; a new instance with the same
 * id takes over and recovers by XA RECOVER). At the end, after the last restart, the total of all
 * balances is the initial total, nothing is prepared in either database and nothing is in doubt.
 * One transfer in four runs three-phase commit, so the crashes also land in its phases.
 *
 * <p>Bounded: {@code tm.soak.seconds} (default 45) of traffic, at most {@code tm.soak.crashes}
 * (default 6) crashes, at most 20,000 transfers; seeded with {@code tm.soak.seed} (default 42; the
 * thread interleaving is not, so a run is reproducible in its choices, not in its timing).
 */
class BankSoakIT extends ServerItSupport {
    private static final Logger log = LoggerFactory.getLogger(BankSoakIT.class);
    private static final int ACCOUNTS_PER_SHARD = 16;
    private static final long INITIAL_BALANCE = 1_000;
    private static final int WORKERS = 4;
    private static final int MAX_TRANSFERS = 20_000;
    private static final String AGENT_ID = "agent-bank";

    private final AtomicReference<TestAgent> agent = new AtomicReference<>();
    private final AtomicInteger committed = new AtomicInteger();
    private final AtomicInteger committedThreePhase = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicInteger attempted = new AtomicInteger();
    private final AtomicInteger gtridSeq = new AtomicInteger();
    private String accounts;
    private volatile boolean running = true;
    /** Set by the chaos thread: the next worker to hear COMMITTED counts it down, so the kill lands in phase 2. */
    private volatile java.util.concurrent.CountDownLatch killAfterNextCommit;

    @Override
    protected Map<String, String> serverProperties() {
        // Fast resends, so recovery after a crash takes a fraction of the run.
        // 3PC: a participant left willing by a dead coordinator frees its rows after 5 s; a prepared
        // one waits 20 s, longer than any restart here, so the coordinator (not a participant's own
        // commit) decides every transfer and the soak needs no operator.
        return Map.of("tm.server.retry-initial-ms", "100", "tm.server.retry-max-ms", "1000", "tm.server.in-doubt-after-ms", "20000",
                "tm.server.three-phase.can-commit-timeout-ms", "3000", "tm.server.three-phase.pre-commit-timeout-ms", "3000",
                "tm.server.three-phase.participant-can-commit-timeout-ms", "5000",
                "tm.server.three-phase.participant-pre-commit-timeout-ms", "20000");
    }

    @AfterEach
    void dropAccounts() {
        if (accounts != null) {
            pg.dropTable(accounts);
            maria.dropTable(accounts);
        }
    }

    @Test
    void theTotalSurvivesConcurrentTransfersWithServerAndAgentCrashes() throws Exception {
        long seed = Long.getLong("tm.soak.seed", 42);
        long seconds = Long.getLong("tm.soak.seconds", 45);
        int maxCrashes = Integer.getInteger("tm.soak.crashes", 6);
        accounts = table + "_acct";
        for (TestDb db : dbs.both()) {
            db.exec("CREATE TABLE " + accounts + " (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)"
                    + (db.kind() == TestDb.Kind.MARIADB ? " ENGINE=InnoDB" : ""));
            for (int id = 0; id < ACCOUNTS_PER_SHARD; id++) {
                db.exec("INSERT INTO " + accounts + " (id, balance) VALUES (" + id + ", " + INITIAL_BALANCE + ")");
            }
        }
        long initialTotal = total();
        assertThat(initialTotal).isEqualTo(2 * ACCOUNTS_PER_SHARD * INITIAL_BALANCE);
        TestAgent firstAgent = startAgent(AGENT_ID);
        agent.set(firstAgent);
        AdminClient admin = new AdminClient(server);

        ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
            int worker = w;
            Random random = new Random(seed * 31 + w);
            workers.add(pool.submit(() -> transfers(worker, random)));
        }

        // The chaos: a crash every few seconds, server or agent, chosen by the seed.
        Random chaos = new Random(seed);
        int serverCrashes = 0;
        int agentCrashes = 0;
        List<TestAgent> restartedAgents = new ArrayList<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end && serverCrashes + agentCrashes < maxCrashes && attempted.get() < MAX_TRANSFERS) {
            long pauseMillis = 3_000 + chaos.nextInt(4_000);
            TimeUnit.MILLISECONDS.sleep(Math.min(pauseMillis, Math.max(0, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()))));
            if (System.nanoTime() >= end) {
                break;
            }
            if (chaos.nextBoolean()) {
                // Right after a commit was decided, its COMMITs are on their way: the restarted server
                // must finish them from its log (some kills are meant to land there, not only in idle time).
                java.util.concurrent.CountDownLatch decided = new java.util.concurrent.CountDownLatch(1);
                killAfterNextCommit = decided;
                decided.await(5, TimeUnit.SECONDS);
                killAfterNextCommit = null;
                server.kill9();
                serverCrashes++;
                server.restart();
                tm.reconnectNow();
            } else {
                TestAgent old = agent.get();
                old.crash();
                agentCrashes++;
                TestAgent fresh = startAgent(AGENT_ID);
                agent.set(fresh);
                restartedAgents.add(fresh);
            }
        }
        running = false;
        for (Future<?> f : workers) {
            f.get(60, TimeUnit.SECONDS); // a worker's own failure surfaces here
        }
        pool.shutdown();

        // Quiescence: nothing prepared, nothing in doubt, and the money is all there.
        dbs.awaitNothingPrepared(prefix, Duration.ofSeconds(90));
        await("nothing in doubt").atMost(CONVERGE).untilAsserted(() -> assertThat(admin.inDoubt()).isEmpty());
        long finalTotal = total();
        // What the restarted servers took over from their log: durable COMMIT decisions whose phase 2 they finished.
        Matcher resumed = Pattern.compile("(\\d+) committed transactions resume phase 2").matcher(server.output());
        int recoveredByServer = 0;
        while (resumed.find()) {
            recoveredByServer += Integer.parseInt(resumed.group(1));
        }
        // What the agents found prepared after a crash (in memory or by XA RECOVER) and asked the server about.
        int inquiriesAfterCrashes = restartedAgents.stream().mapToInt(TestAgent::inquiriesSent).sum() + firstAgent.inquiriesSent();
        String summary = String.format("BankSoakIT (seed %d, %d s): transfers done %d (committed; %d of them 3PC), %d rolled back or failed, of %d attempted;"
                        + " crashes injected %d (server kill -9: %d, agent: %d); transactions recovered: %d by the restarted server"
                        + " from its log, %d prepared branches recovered by agents asking the server after a crash; total %d -> %d",
                seed, seconds, committed.get(), committedThreePhase.get(), failed.get(), attempted.get(), serverCrashes + agentCrashes, serverCrashes, agentCrashes,
                recoveredByServer, inquiriesAfterCrashes, initialTotal, finalTotal);
        System.out.println(summary);
        log.info(summary);
        assertThat(finalTotal).as("the total of all balances").isEqualTo(initialTotal);
        assertThat(committed.get()).as("transfers that committed").isGreaterThan(0);
        assertThat(committedThreePhase.get()).as("3PC transfers that committed").isGreaterThan(0);
        assertThat(serverCrashes + agentCrashes).as("crashes injected").isGreaterThan(0);
        for (TestDb db : dbs.both()) {
            assertThat(minBalance(db)).as("no account of " + db + " went negative").isGreaterThanOrEqualTo(0);
        }
        assertThat(agent.get().violations()).isEmpty();
    }

    /** One worker: transfers between a PostgreSQL and a MariaDB account of its own, in either direction. */
    private void transfers(int worker, Random random) {
        while (running && attempted.get() < MAX_TRANSFERS) {
            attempted.incrementAndGet();
            // Accounts are split between the workers, so concurrent transfers never wait on each
            // other's row locks; only a prepared branch left by a crash can hold one for a while.
            long pgAccount = worker + (long) WORKERS * random.nextInt(ACCOUNTS_PER_SHARD / WORKERS);
            long mariaAccount = worker + (long) WORKERS * random.nextInt(ACCOUNTS_PER_SHARD / WORKERS);
            long amount = 1 + random.nextInt(50);
            boolean pgToMaria = random.nextBoolean();
            CommitProtocol protocol = random.nextInt(4) == 0 ? CommitProtocol.THREE_PHASE : CommitProtocol.TWO_PHASE;
            if (transfer(worker, pgAccount, mariaAccount, pgToMaria ? amount : -amount, protocol)) {
                committed.incrementAndGet();
                if (protocol == CommitProtocol.THREE_PHASE) {
                    committedThreePhase.incrementAndGet();
                }
            } else {
                failed.incrementAndGet();
                pause(50 + random.nextInt(100)); // the server or the agent may be restarting
            }
        }
    }

    /** Moves {@code delta} from the PostgreSQL account to the MariaDB one (negative: the other way). */
    private boolean transfer(int worker, long pgAccount, long mariaAccount, long delta, CommitProtocol protocol) {
        TestAgent a = agent.get();
        String gtrid = prefix + "-" + gtridSeq.incrementAndGet();
        TmXid pgXid = new TmXid(gtrid, "pg");
        TmXid mariaXid = new TmXid(gtrid, "maria");
        boolean commitAsked = false;
        try {
            tm.begin(gtrid, "transfer", 10_000, protocol);
            TestAgent.Branch p = enlist(a, pg, gtrid, "pg");
            TestAgent.Branch m = enlist(a, maria, gtrid, "maria");
            p.update("SET LOCAL lock_timeout = '3s'");
            m.update("SET innodb_lock_wait_timeout = 3");
            // Debit first, and only if the money is there, so no balance goes negative.
            int debited = delta > 0
                    ? p.update("UPDATE " + accounts + " SET balance = balance - ? WHERE id = ? AND balance >= ?", delta, pgAccount, delta)
                    : m.update("UPDATE " + accounts + " SET balance = balance - ? WHERE id = ? AND balance >= ?", -delta, mariaAccount, -delta);
            if (debited != 1) {
                abandon(a, gtrid, pgXid, mariaXid);
                return false;
            }
            int credited = delta > 0
                    ? m.update("UPDATE " + accounts + " SET balance = balance + ? WHERE id = ?", delta, mariaAccount)
                    : p.update("UPDATE " + accounts + " SET balance = balance + ? WHERE id = ?", -delta, pgAccount);
            if (credited != 1) {
                throw new IllegalStateException("account vanished");
            }
            commitAsked = true;
            boolean ok = tm.commit(gtrid, false, Duration.ofSeconds(15)).getOutcome() == Outcome.COMMITTED;
            java.util.concurrent.CountDownLatch kill = killAfterNextCommit;
            if (ok && kill != null) {
                kill.countDown();
            }
            return ok;
        } catch (Exception e) {
            log.debug("worker {}: transfer {} failed: {}", worker, gtrid, e.toString());
            if (!commitAsked) {
                abandon(a, gtrid, pgXid, mariaXid);
            }
            // With the commit asked, the outcome is the coordinator's (and recovery's) to decide.
            return false;
        }
    }

    /** The business code gives up before committing: roll back here and tell the server (best effort). */
    private void abandon(TestAgent a, String gtrid, TmXid... xids) {
        for (TmXid x : xids) {
            try {
                a.rollbackIfActive(x).get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("local rollback of {} not done: {}", x, e.toString());
            }
        }
        try {
            tm.rollback(gtrid);
        } catch (RuntimeException e) {
            log.debug("rollback of {} not acknowledged: {}", gtrid, e.toString());
        }
    }

    private long total() throws SQLException {
        return sum(pg) + sum(maria);
    }

    private long sum(TestDb db) throws SQLException {
        return scalar(db, "SELECT COALESCE(SUM(balance), 0) FROM " + accounts);
    }

    private long minBalance(TestDb db) throws SQLException {
        return scalar(db, "SELECT MIN(balance) FROM " + accounts);
    }

    private static long scalar(TestDb db, String sql) throws SQLException {
        try (Connection c = db.open(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void pause(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
