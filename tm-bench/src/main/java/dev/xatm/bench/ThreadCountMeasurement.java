package dev.xatm.bench;

import dev.xatm.bench.measure.JvmProbe;
import dev.xatm.bench.measure.LoadDriver;
import dev.xatm.bench.measure.ProcStat;
import dev.xatm.bench.measure.WarmupPlan;
import dev.xatm.bench.variant.Variant;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One thread count of a {@link Cell} run, on a variant that is already up: an adaptive warm-up
 * ({@link WarmupPlan}: until the JIT compiler threads of this JVM and of the tm-server processes have
 * settled), then the measured window, with every number taken over that window only (CPU and heap of
 * each process, CPU per thread group, the log's counters, the compiler threads' share of the machine).
 */
final class ThreadCountMeasurement {
    private final Variant variant;
    private final JvmProbe self;
    /** The first tm-server's JVM, or null when the coordinator is not a separate process. */
    private final JvmProbe server;
    private final List<Long> serverPids;
    /** This JVM and the tm-server processes: whose compiler threads decide when the warm-up ends. */
    private final List<Long> jvmPids;
    private final int cores = Runtime.getRuntime().availableProcessors();

    ThreadCountMeasurement(Variant variant, JvmProbe self, JvmProbe server) {
        this.variant = variant;
        this.self = self;
        this.server = server;
        this.serverPids = variant.coordinatorPids();
        List<Long> pids = new ArrayList<>();
        pids.add(ProcessHandle.current().pid());
        pids.addAll(serverPids);
        this.jvmPids = List.copyOf(pids);
    }

    /** Where the JFR recordings of a measured window go: this JVM's and the first tm-server's. */
    record JfrFiles(Path bench, Path server) {
    }

    /**
     * Measures {@code threads} client threads and returns the cell's numbers; {@code jfr} non-null
     * records the measured window with JFR into those files.
     */
    Map<String, String> measure(int threads, WarmupPlan plan, long measureMs, long seed, AtomicLong ids, JfrFiles jfr)
            throws Exception {
        Map<String, String> r = new LinkedHashMap<>();
        AtomicLong selfPeak = new AtomicLong();
        AtomicLong serverPeak = new AtomicLong();
        AtomicLong serverLive = new AtomicLong();
        AtomicLong serverCommitted = new AtomicLong();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(t -> {
            Thread th = new Thread(t, "bench-heap-sampler");
            th.setDaemon(true);
            return th;
        });
        ProcStat.Snapshot[] cpu = new ProcStat.Snapshot[2];
        double[] jit = new double[2];
        long[] windowNanos = new long[2];
        long selfPid = ProcessHandle.current().pid();
        List<Map<String, Double>> threadCpu = new ArrayList<>();
        Map<String, Long> logBefore = new LinkedHashMap<>();
        Map<String, Long> logAfter = new LinkedHashMap<>();
        Recording[] recording = new Recording[1];
        LoadDriver.Result result = LoadDriver.run(variant, threads, measureMs, seed, ids, new LoadDriver.Window() {
            @Override
            public void warmUp() throws Exception {
                warmUpUntilSettled(plan, r);
            }

            @Override
            public void started() throws Exception {
                logBefore.putAll(variant.logCounters());
                cpu[0] = ProcStat.snapshot(serverPids);
                jit[0] = ProcStat.compilerSeconds(jvmPids);
                windowNanos[0] = System.nanoTime();
                threadCpu.add(ProcStat.threads(selfPid));
                threadCpu.add(ProcStat.threads(serverPids));
                sampler.scheduleAtFixedRate(() -> {
                    selfPeak.accumulateAndGet(self.heapUsed(), Math::max);
                    if (server != null) {
                        try {
                            serverPeak.accumulateAndGet(server.heapUsed(), Math::max);
                            serverCommitted.accumulateAndGet(server.heapCommitted(), Math::max);
                            serverLive.accumulateAndGet(server.heapAfterLastGc(), Math::max);
                        } catch (RuntimeException gone) {
                            // server stopped: keep the peaks so far
                        }
                    }
                }, 0, 1000, TimeUnit.MILLISECONDS);
                if (jfr != null) {
                    recording[0] = new Recording(Configuration.getConfiguration("profile"));
                    recording[0].start();
                    if (server != null) {
                        server.jfrStart("bench");
                    }
                }
            }

            @Override
            public void ended() throws Exception {
                threadCpu.add(ProcStat.threads(selfPid));
                threadCpu.add(ProcStat.threads(serverPids));
                windowNanos[1] = System.nanoTime();
                jit[1] = ProcStat.compilerSeconds(jvmPids);
                cpu[1] = ProcStat.snapshot(serverPids);
                logAfter.putAll(variant.logCounters());
                sampler.shutdownNow();
                if (jfr != null) {
                    recording[0].stop();
                    recording[0].dump(jfr.bench());
                    if (server != null) {
                        server.jfrStop("bench", jfr.server().toAbsolutePath().toString());
                    }
                }
            }
        });
        double seconds = measureMs / 1000.0;
        r.put("committed.window", Long.toString(result.committedInWindow()));
        r.put("committed.total", Long.toString(result.committedTotal()));
        r.put("errors.window", Long.toString(result.errorsInWindow()));
        r.put("errors.total", Long.toString(result.errorsTotal()));
        r.put("errors.kinds", result.errorKinds().toString());
        r.put("all.stopped", Boolean.toString(result.allStopped()));
        r.put("tps", Cell.fmt(result.committedInWindow() / seconds));
        r.put("lat.p50.ms", Cell.fmt(result.percentileMillis(0.50)));
        r.put("lat.p99.ms", Cell.fmt(result.percentileMillis(0.99)));
        r.put("lat.p999.ms", Cell.fmt(result.percentileMillis(0.999)));
        r.put("lat.max.ms", Cell.fmt(result.percentileMillis(1.0)));
        r.put("lat.mean.ms", Cell.fmt(result.meanMillis()));
        r.put("jit.window.s", Cell.fmt(jit[1] - jit[0]));
        r.put("jit.share", Cell.fmt(WarmupPlan.share(jit[1] - jit[0], cores, (windowNanos[1] - windowNanos[0]) / 1e9)));
        ProcStat.Snapshot d = cpu[1].minus(cpu[0]);
        r.put("cpu.machine.busy.s", Cell.fmt(d.machineBusy()));
        r.put("cpu.machine.total.s", Cell.fmt(d.machineTotal()));
        r.put("cpu.bench.s", Cell.fmt(d.self()));
        r.put("cpu.server.s", Cell.fmt(d.server()));
        r.put("cpu.postgres.s", Cell.fmt(d.postgres()));
        r.put("cpu.mariadb.s", Cell.fmt(d.mariadb()));
        r.put("cpu.kernel.irq.s", Cell.fmt(d.irq()));
        r.put("cpu.other.s", Cell.fmt(d.other()));
        r.put("cpu.bench.threads", ProcStat.threadDelta(threadCpu.get(0), threadCpu.get(2)));
        r.put("servers", Integer.toString(serverPids.size()));
        if (!serverPids.isEmpty()) {
            r.put("cpu.server.threads", ProcStat.threadDelta(threadCpu.get(1), threadCpu.get(3)));
        }
        r.put("heap.bench.peak.mb", Cell.fmt(selfPeak.get() / 1048576.0));
        if (server != null) {
            r.put("heap.server.peak.mb", Cell.fmt(serverPeak.get() / 1048576.0));
            r.put("heap.server.committed.mb", Cell.fmt(serverCommitted.get() / 1048576.0));
            r.put("heap.server.live.mb", Cell.fmt(serverLive.get() / 1048576.0));
        }
        for (String k : logAfter.keySet()) {
            if (logBefore.containsKey(k)) {
                r.put("log.window." + k, Long.toString(logAfter.get(k) - logBefore.get(k)));
            }
        }
        return r;
    }

    /** Runs the warm-up slice by slice while the load runs; records what it used into {@code r}. */
    private void warmUpUntilSettled(WarmupPlan plan, Map<String, String> r) throws InterruptedException {
        long began = System.nanoTime();
        // The plan counts the slices it asked for: sleep's overshoot must not add a 1 ms slice at the end.
        long elapsedMs = 0;
        double share = Double.NaN;
        // The quieter of two slices is not enough: in the 2026-12-07 matrix a remote variant's first
        // thread count passed one quiet slice and then spent 12% of its window compiling (tm-server's
        // compiler came back). So the louder of the last two slices must be under the bar.
        double lastTwo = Double.NaN;
        int slices = 0;
        do {
            long sliceMs = plan.nextSliceMs(elapsedMs);
            double before = ProcStat.compilerSeconds(jvmPids);
            long t0 = System.nanoTime();
            Thread.sleep(sliceMs);
            long t1 = System.nanoTime();
            double previous = share;
            share = WarmupPlan.share(ProcStat.compilerSeconds(jvmPids) - before, cores, (t1 - t0) / 1e9);
            lastTwo = Double.isNaN(previous) ? Double.NaN : Math.max(previous, share); // NaN: not settled yet
            elapsedMs += sliceMs;
            slices++;
        } while (!plan.done(elapsedMs, lastTwo));
        r.put("warmup.min.ms", Long.toString(plan.minMs()));
        r.put("warmup.max.ms", Long.toString(plan.maxMs()));
        r.put("warmup.ms", Long.toString(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began)));
        r.put("warmup.slices", Integer.toString(slices));
        r.put("warmup.settled", Boolean.toString(WarmupPlan.settled(lastTwo)));
        r.put("warmup.last.slice.jit.share", Cell.fmt(share));
    }
}
