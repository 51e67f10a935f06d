package dev.xatm.bench;

import dev.xatm.bench.measure.JvmProbe;
import dev.xatm.bench.measure.LoadDriver;
import dev.xatm.bench.measure.ProcStat;
import dev.xatm.bench.variant.AtomikosVariant;
import dev.xatm.bench.variant.LocalVariant;
import dev.xatm.bench.variant.NarayanaVariant;
import dev.xatm.bench.variant.RawXaVariant;
import dev.xatm.bench.variant.Variant;
import dev.xatm.bench.variant.XatmVariant;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One cell of the matrix (one variant at one thread count), in a JVM of its own so that JIT state,
 * heap and the JVM-wide singletons of Narayana and Atomikos never carry over between variants:
 * reset the schema, start the variant, warm up, measure, stop, check both shards, and write the
 * numbers to {@code --out} as a properties file for {@link Matrix}.
 *
 * <pre>java -cp tm-bench.jar:lib/* dev.xatm.bench.Cell --variant=rawxa --threads=32 --out=cell.properties</pre>
 */
public final class Cell {
    /** The matrix run.sh runs without {@code --variants}: the comparison with the other transaction managers. */
    public static final List<String> DEFAULT_VARIANTS = List.of("local", "rawxa", "narayana", "atomikos", "xatm-remote", "xatm-3pc",
            "xatm-embedded");
    /**
     * Every variant: the default ones, and ours on the JDBC store with one and with three tm-servers
     * (docs/ha.md), which run only when named in {@code --variants}.
     */
    public static final List<String> VARIANTS = java.util.stream.Stream.concat(DEFAULT_VARIANTS.stream(),
            java.util.stream.Stream.of("xatm-jdbc", "xatm-jdbc-3", "xatm-outbox")).toList();

    private Cell() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        String variantKey = args.required("variant");
        int threads = Integer.parseInt(args.required("threads"));
        long warmupMs = args.getLong("warmup-ms", 5_000);
        long measureMs = args.getLong("measure-ms", 10_000);
        Path out = Path.of(args.required("out"));
        Path work = Files.createDirectories(Path.of(args.get("work", out.getParent().resolve(variantKey + "-" + threads).toString())));
        Path serverJar = Path.of(args.get("server-jar", "tm-server/target/tm-server.jar"));
        boolean jfr = Boolean.parseBoolean(args.get("jfr", "false"));

        Map<String, String> r = new LinkedHashMap<>();
        r.put("variant", variantKey);
        r.put("threads", Integer.toString(threads));
        r.put("warmup.ms", Long.toString(warmupMs));
        r.put("measure.ms", Long.toString(measureMs));
        Db pg = Db.postgres();
        Db maria = Db.mariadb();
        Variant variant = null;
        try {
            Workload.resetSchema(pg, maria);
            variant = create(variantKey, pg, maria, threads, work, serverJar, props(args.get("xatm-props", "")),
                    jvmOptions(args.get("server-jvm", "")));
            measure(variant, threads, warmupMs, measureMs, args.getLong("seed", 42), jfr, work, r);
            r.putAll(variant.finish());
            Workload.Check check = awaitCheck(pg, maria, Long.parseLong(r.get("committed.total")), variant.xidMarker());
            r.put("check.ok", Boolean.toString(check.ok()));
            r.put("check.orders", Long.toString(check.orders()));
            r.put("check.problems", String.join("; ", check.problems()));
            r.put("status", "ok");
        } catch (Variant.Unavailable e) {
            r.put("status", "unavailable");
            r.put("reason", e.getMessage());
        } catch (Throwable e) {
            r.put("status", "failed");
            r.put("reason", e.toString());
            StringWriter sw = new StringWriter();
            e.printStackTrace(new PrintWriter(sw));
            System.err.println(sw);
        } finally {
            if (variant != null) {
                try {
                    variant.close();
                } catch (Throwable e) {
                    System.err.println("close failed: " + e);
                }
            }
        }
        write(out, r);
        System.out.println("cell " + variantKey + " x" + threads + ": " + r.get("status")
                + (r.containsKey("tps") ? " " + r.get("tps") + " tx/s" : "") + (r.containsKey("reason") ? " (" + r.get("reason") + ")" : ""));
        // Narayana's and Atomikos' background threads and the gRPC channel must not keep the JVM alive.
        System.exit(0);
    }

    /** {@code --xatm-props=tm.client.agent-threads=4;tm.client.wait-for-completion=false}: experiments with ours. */
    static Map<String, String> props(String spec) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : spec.split(";")) {
            if (!kv.isBlank()) {
                m.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
            }
        }
        return m;
    }

    /** {@code --server-jvm=-XX:+PrintCompilation,-Xmx512m}: JVM options of tm-server, for experiments (none by default). */
    static List<String> jvmOptions(String spec) {
        return java.util.Arrays.stream(spec.split(",")).map(String::trim).filter(o -> !o.isEmpty()).toList();
    }

    static Variant create(String key, Db pg, Db maria, int threads, Path work, Path serverJar, Map<String, String> xatmProps,
                          List<String> serverJvm) throws Exception {
        return switch (key) {
            case "local" -> new LocalVariant(pg, maria, threads);
            case "rawxa" -> new RawXaVariant(pg, maria, threads);
            case "narayana" -> new NarayanaVariant(pg, maria, threads, Files.createDirectories(work.resolve("narayana-store")));
            case "atomikos" -> new AtomikosVariant(pg, maria, threads, Files.createDirectories(work.resolve("atomikos-log")));
            case "xatm-remote" -> XatmVariant.remote(pg, maria, threads, serverJar, work, serverJvm, xatmProps);
            case "xatm-3pc" -> XatmVariant.remoteThreePhase(pg, maria, threads, serverJar, work, serverJvm, xatmProps);
            case "xatm-embedded" -> XatmVariant.embedded(pg, maria, threads, work, xatmProps);
            // The store shares the workload's PostgreSQL database (tables of their own), as a deployment
            // that already runs PostgreSQL would.
            case "xatm-jdbc" -> XatmVariant.remoteJdbc(pg, maria, pg, 1, threads, serverJar, work, serverJvm, xatmProps);
            // (e) plus an OrderPlaced event per order through tm-outbox and its relay to RabbitMQ
            case "xatm-outbox" -> XatmVariant.remoteWithOutbox(pg, maria, threads, serverJar, work, xatmProps);
            case "xatm-jdbc-3" -> XatmVariant.remoteJdbc(pg, maria, pg, 3, threads, serverJar, work, serverJvm, xatmProps);
            default -> throw new IllegalArgumentException("unknown variant " + key + "; known: " + VARIANTS);
        };
    }

    private static void measure(Variant variant, int threads, long warmupMs, long measureMs, long seed, boolean jfr, Path work,
                                Map<String, String> r) throws Exception {
        long serverPid = variant.coordinatorPid();
        List<Long> serverPids = variant.coordinatorPids();
        JvmProbe self = JvmProbe.self();
        JvmProbe server = serverPid > 0 ? JvmProbe.attach(serverPid) : null;
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
        long selfPid = ProcessHandle.current().pid();
        List<Map<String, Double>> threadCpu = new java.util.ArrayList<>();
        Map<String, Long> logBefore = new LinkedHashMap<>();
        Map<String, Long> logAfter = new LinkedHashMap<>();
        Recording[] recording = new Recording[1];
        LoadDriver.Result result = LoadDriver.run(variant, threads, warmupMs, measureMs, seed, new LoadDriver.Window() {
            @Override
            public void started() throws Exception {
                logBefore.putAll(variant.logCounters());
                cpu[0] = ProcStat.snapshot(serverPids);
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
                if (jfr) {
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
                cpu[1] = ProcStat.snapshot(serverPids);
                logAfter.putAll(variant.logCounters());
                sampler.shutdownNow();
                if (jfr) {
                    recording[0].stop();
                    recording[0].dump(work.resolve("bench.jfr"));
                    if (server != null) {
                        server.jfrStop("bench", work.resolve("tm-server.jfr").toAbsolutePath().toString());
                    }
                }
            }
        });
        if (server != null) {
            server.close();
        }
        double seconds = measureMs / 1000.0;
        r.put("committed.window", Long.toString(result.committedInWindow()));
        r.put("committed.total", Long.toString(result.committedTotal()));
        r.put("errors.window", Long.toString(result.errorsInWindow()));
        r.put("errors.total", Long.toString(result.errorsTotal()));
        r.put("errors.kinds", result.errorKinds().toString());
        r.put("all.stopped", Boolean.toString(result.allStopped()));
        r.put("tps", fmt(result.committedInWindow() / seconds));
        r.put("lat.p50.ms", fmt(result.percentileMillis(0.50)));
        r.put("lat.p99.ms", fmt(result.percentileMillis(0.99)));
        r.put("lat.p999.ms", fmt(result.percentileMillis(0.999)));
        r.put("lat.max.ms", fmt(result.percentileMillis(1.0)));
        r.put("lat.mean.ms", fmt(result.meanMillis()));
        ProcStat.Snapshot d = cpu[1].minus(cpu[0]);
        r.put("cpu.machine.busy.s", fmt(d.machineBusy()));
        r.put("cpu.machine.total.s", fmt(d.machineTotal()));
        r.put("cpu.bench.s", fmt(d.self()));
        r.put("cpu.server.s", fmt(d.server()));
        r.put("cpu.postgres.s", fmt(d.postgres()));
        r.put("cpu.mariadb.s", fmt(d.mariadb()));
        r.put("cpu.kernel.irq.s", fmt(d.irq()));
        r.put("cpu.other.s", fmt(d.other()));
        r.put("cpu.bench.threads", ProcStat.threadDelta(threadCpu.get(0), threadCpu.get(2)));
        r.put("servers", Integer.toString(serverPids.size()));
        if (!serverPids.isEmpty()) {
            r.put("cpu.server.threads", ProcStat.threadDelta(threadCpu.get(1), threadCpu.get(3)));
        }
        r.put("heap.bench.peak.mb", fmt(selfPeak.get() / 1048576.0));
        if (server != null) {
            r.put("heap.server.peak.mb", fmt(serverPeak.get() / 1048576.0));
            r.put("heap.server.committed.mb", fmt(serverCommitted.get() / 1048576.0));
            r.put("heap.server.live.mb", fmt(serverLive.get() / 1048576.0));
        }
        for (String k : logAfter.keySet()) {
            if (logBefore.containsKey(k)) {
                r.put("log.window." + k, Long.toString(logAfter.get(k) - logBefore.get(k)));
            }
        }
    }

    /** Phase 2 may still be finishing for the last transactions: give prepared branches a few seconds to go. */
    private static Workload.Check awaitCheck(Db pg, Db maria, long committed, String marker) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            Workload.Check c = Workload.check(pg, maria, committed, marker);
            if (c.ok() || System.nanoTime() > deadline) {
                return c;
            }
            Thread.sleep(500);
        }
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static void write(Path out, Map<String, String> r) throws IOException {
        Properties p = new Properties();
        r.forEach(p::setProperty);
        Files.createDirectories(out.toAbsolutePath().getParent());
        try (Writer w = Files.newBufferedWriter(out)) {
            p.store(w, "tm-bench cell");
        }
    }
}
