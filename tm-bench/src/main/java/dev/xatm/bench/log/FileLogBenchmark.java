package dev.xatm.bench.log;

import dev.xatm.core.Branch;
import dev.xatm.core.LogRecord;
import dev.xatm.coordinator.log.FileTxnLog;
import dev.xatm.coordinator.log.TxnLog;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.infra.ThreadParams;
import org.openjdk.jmh.runner.IterationType;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Durable COMMIT decisions per second of the file log alone, against concurrent writers (JMH
 * threads): each operation appends one {@link LogRecord.Decision} with two branches with
 * {@code sync = true} and waits for its future, i.e. until the decision is fsynced.
 *
 * <p>{@link #commit} picks the log:
 * <ul>
 *   <li>{@value #GROUP}: {@link FileTxnLog} as tm-server runs it ({@link FileTxnLog.Settings#defaults()});
 *       its writer thread takes everything queued and covers it with one fsync (group commit).</li>
 *   <li>{@value #LOCKED}: no group commit, {@link LockedFsyncLog}: the calling thread writes its
 *       decision and fsyncs it under one lock, the same bytes as the file log's. The baseline.</li>
 *   <li>{@value #PER_DECISION}: no group commit inside {@link FileTxnLog} itself: the same writer
 *       thread and code path with {@code pendingAppendsMax = 1}. At most one append can wait, so
 *       every batch the writer takes is exactly one decision with its own fsync; the next one is
 *       queued while the previous one is synced, and the other writers wait in {@code append} for
 *       room (each batch taken wakes all of them) instead of on their future.</li>
 * </ul>
 *
 * <p>Each trial (one JMH fork) opens a fresh log in a new directory under {@code java.io.tmpdir}
 * and deletes it at the end. The measured iterations' fsyncs, decisions written and process CPU go
 * to a properties file (named after the fork's pid) in the directory named by the system property
 * {@value #STATS_PROPERTY}, for
 * {@code dev.xatm.bench.LogBench} to report. Before the directory is deleted the log is closed and
 * opened again, and the number of records recovered is written there too: a run whose decisions did
 * not all come back is reported as failed, not as fast.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class FileLogBenchmark {

    public static final String STATS_PROPERTY = "xatm.logbench.stats";
    public static final String GROUP = "group";
    public static final String LOCKED = "locked-fsync";
    public static final String PER_DECISION = "per-decision";

    /** Two branches on two shards held by one agent, as the sample's cross-shard order commits. */
    private static final List<Branch> BRANCHES = List.of(
            new Branch("b1", "shard0", "order-service-1"),
            new Branch("b2", "shard1", "order-service-1"));

    @Param({GROUP, LOCKED, PER_DECISION})
    public String commit;

    private Path dir;
    private TxnLog txnLog;
    private LongSupplier fsyncs;
    private LongSupplier recordsWritten;
    private LongSupplier checkpoints;
    private int threads;

    private long fsyncsAtIterationStart;
    private long recordsAtIterationStart;
    private long cpuNanosAtIterationStart;
    private long wallNanosAtIterationStart;
    // sums over the measured iterations only (warm-up excluded)
    private long measuredFsyncs;
    private long measuredDecisions;
    private long measuredCpuNanos;
    private long measuredWallNanos;
    private int measuredIterations;

    /** Per writer thread: a unique gtrid per decision. */
    @State(Scope.Thread)
    public static class Writer {
        private String prefix;
        private long sequence;

        @Setup(Level.Trial)
        public void setUp(ThreadParams thread) {
            prefix = String.format("xatm:logbench-t%02d-", thread.getThreadIndex());
        }

        LogRecord.Decision next() {
            return new LogRecord.Decision(prefix + (sequence++), "PlaceOrder.place", BRANCHES);
        }
    }

    @Setup(Level.Trial)
    public void open(BenchmarkParams params) throws IOException {
        threads = params.getThreads();
        dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "xatm-logbench-");
        Path data = dir.resolve("tm-data");
        if (commit.equals(LOCKED)) {
            LockedFsyncLog locked = new LockedFsyncLog(data);
            txnLog = locked;
            fsyncs = locked::fsyncs;
            recordsWritten = locked::recordsWritten;
            checkpoints = () -> 0;
        } else {
            FileTxnLog.Settings settings = switch (commit) {
                case GROUP -> FileTxnLog.Settings.defaults();
                case PER_DECISION -> new FileTxnLog.Settings(FileTxnLog.Settings.defaults().segmentBytesMax(), 1);
                default -> throw new IllegalArgumentException("commit must be " + GROUP + ", " + LOCKED + " or " + PER_DECISION + ", got " + commit);
            };
            FileTxnLog file = new FileTxnLog(data, settings);
            txnLog = file;
            fsyncs = file::fsyncs;
            recordsWritten = file::recordsWritten;
            checkpoints = file::checkpoints;
        }
        List<LogRecord> recovered = txnLog.open();
        if (!recovered.isEmpty()) {
            throw new IllegalStateException("a fresh log directory recovered " + recovered.size() + " records");
        }
    }

    @Setup(Level.Iteration)
    public void markIteration() {
        fsyncsAtIterationStart = fsyncs.getAsLong();
        recordsAtIterationStart = recordsWritten.getAsLong();
        cpuNanosAtIterationStart = processCpuNanos();
        wallNanosAtIterationStart = System.nanoTime();
    }

    /** Runs after every thread has finished the iteration, so no decision of it is still in flight. */
    @TearDown(Level.Iteration)
    public void countIteration(IterationParams iteration) {
        if (iteration.getType() != IterationType.MEASUREMENT) {
            return;
        }
        measuredFsyncs += fsyncs.getAsLong() - fsyncsAtIterationStart;
        measuredDecisions += recordsWritten.getAsLong() - recordsAtIterationStart;
        measuredCpuNanos += processCpuNanos() - cpuNanosAtIterationStart;
        measuredWallNanos += System.nanoTime() - wallNanosAtIterationStart;
        measuredIterations++;
    }

    @Benchmark
    public void durableDecision(Writer writer) {
        txnLog.append(List.of(writer.next()), true).join();
    }

    @TearDown(Level.Trial)
    public void closeAndCheck() throws IOException {
        long written = recordsWritten.getAsLong();
        long fsyncsTotal = fsyncs.getAsLong();
        long checkpointsTotal = checkpoints.getAsLong();
        txnLog.close();
        long bytesOnDisk;
        try (Stream<Path> files = Files.list(dir.resolve("tm-data"))) {
            bytesOnDisk = files.filter(f -> f.getFileName().toString().endsWith(".log")).mapToLong(FileLogBenchmark::size).sum();
        }
        long recovered;
        long recoveredDecisions;
        try (FileTxnLog again = new FileTxnLog(dir.resolve("tm-data"), FileTxnLog.Settings.defaults())) {
            List<LogRecord> records = again.open();
            recovered = records.size();
            recoveredDecisions = records.stream().filter(r -> r instanceof LogRecord.Decision).map(LogRecord::gtrid).distinct().count();
        }
        deleteRecursively(dir);

        Properties stats = new Properties();
        stats.setProperty("commit", commit);
        stats.setProperty("threads", Integer.toString(threads));
        stats.setProperty("measured.iterations", Integer.toString(measuredIterations));
        stats.setProperty("measured.decisions", Long.toString(measuredDecisions));
        stats.setProperty("measured.fsyncs", Long.toString(measuredFsyncs));
        stats.setProperty("measured.cpu.ns", Long.toString(measuredCpuNanos));
        stats.setProperty("measured.wall.ns", Long.toString(measuredWallNanos));
        stats.setProperty("trial.decisions", Long.toString(written));
        stats.setProperty("trial.fsyncs", Long.toString(fsyncsTotal));
        stats.setProperty("trial.checkpoints", Long.toString(checkpointsTotal));
        stats.setProperty("trial.bytes.on.disk", Long.toString(bytesOnDisk));
        stats.setProperty("recovered.records", Long.toString(recovered));
        stats.setProperty("recovered.distinct.decisions", Long.toString(recoveredDecisions));
        stats.setProperty("dir", dir.toString());
        // everything this fork used, JVM start-up and warm-up included: lets LogBench tell foreign load apart
        stats.setProperty("fork.process.cpu.ns", Long.toString(processCpuNanos()));
        String out = System.getProperty(STATS_PROPERTY);
        if (out != null) {
            try (OutputStream o = Files.newOutputStream(Path.of(out, ProcessHandle.current().pid() + ".properties"))) {
                stats.store(o, "FileLogBenchmark trial");
            }
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
