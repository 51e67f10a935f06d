package dev.xatm.bench;

import dev.xatm.bench.measure.JvmProbe;
import dev.xatm.bench.measure.WarmupPlan;
import dev.xatm.bench.variant.AtomikosVariant;
import dev.xatm.bench.variant.LocalVariant;
import dev.xatm.bench.variant.NarayanaVariant;
import dev.xatm.bench.variant.RawXaVariant;
import dev.xatm.bench.variant.Variant;
import dev.xatm.bench.variant.XatmVariant;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * One variant at one or several thread counts, in a JVM of its own so that JIT state, heap and the
 * JVM-wide singletons of Narayana and Atomikos never carry over between variants: reset the schema,
 * start the variant once (pools sized for the largest thread count), then for each thread count in
 * ascending order warm up until the JIT has settled and measure ({@link ThreadCountMeasurement});
 * after the last one stop the variant, check both shards (commits counted over all thread counts),
 * and write one properties file per thread count for {@link Matrix}.
 *
 * <p>One JVM for all thread counts because a fresh JVM per cell never reached a steady state in a
 * warm-up of sensible length: the compiler threads kept a fifth of the machine busy after 20 s.
 *
 * <pre>java -cp tm-bench.jar:lib/* dev.xatm.bench.Cell --variant=rawxa --threads=8,32 --out=dir/rawxa-t{threads}/result.properties</pre>
 *
 * {@code {threads}} in {@code --out} is replaced by each thread count; with a single thread count it may be left out.
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

    static final long DEFAULT_WARMUP_MS = 15_000;
    static final long DEFAULT_REWARM_MS = 5_000;
    static final long DEFAULT_WARMUP_MAX_MS = 120_000;
    static final long DEFAULT_MEASURE_MS = 10_000;
    /** Windows measured again, at most, when the JIT compiled during one ({@link WarmupPlan#measureAgain}). */
    static final int DEFAULT_JIT_RETRIES = 2;

    private Cell() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        String variantKey = args.required("variant");
        List<Integer> threads = args.list("threads", "").stream().map(String::trim).map(Integer::parseInt).sorted().distinct().toList();
        if (threads.isEmpty()) {
            throw new IllegalArgumentException("--threads=N[,M...] is required");
        }
        long warmupMs = args.getLong("warmup-ms", DEFAULT_WARMUP_MS);
        long rewarmMs = args.getLong("rewarm-ms", DEFAULT_REWARM_MS);
        long warmupMaxMs = args.getLong("warmup-max-ms", DEFAULT_WARMUP_MAX_MS);
        long measureMs = args.getLong("measure-ms", DEFAULT_MEASURE_MS);
        int jitRetries = (int) args.getLong("jit-retries", DEFAULT_JIT_RETRIES);
        if (jitRetries < 0) {
            throw new IllegalArgumentException("--jit-retries must be 0 or more, got " + jitRetries);
        }
        String outSpec = args.required("out");
        if (threads.size() > 1 && !outSpec.contains("{threads}")) {
            throw new IllegalArgumentException("with several thread counts --out needs {threads} in it, got " + outSpec);
        }
        int maxThreads = threads.get(threads.size() - 1);
        Path firstOut = out(outSpec, threads.get(0));
        String defaultWork = firstOut.toAbsolutePath().getParent().resolve(variantKey + "-" + (threads.size() == 1 ? maxThreads : "run"))
                .toString();
        Path work = Files.createDirectories(Path.of(args.get("work", defaultWork)));
        Path serverJar = Path.of(args.get("server-jar", "tm-server/target/tm-server.jar"));
        boolean jfr = Boolean.parseBoolean(args.get("jfr", "false"));
        long seed = args.getLong("seed", 42);

        Map<Integer, Map<String, String>> cells = new LinkedHashMap<>();
        for (int t : threads) {
            Map<String, String> r = new LinkedHashMap<>();
            r.put("variant", variantKey);
            r.put("threads", Integer.toString(t));
            r.put("threads.run", threads.stream().map(String::valueOf).collect(Collectors.joining(",")));
            r.put("measure.ms", Long.toString(measureMs));
            cells.put(t, r);
        }
        Db pg = Db.postgres();
        Db maria = Db.mariadb();
        Variant variant = null;
        JvmProbe server = null;
        List<Integer> measured = new ArrayList<>();
        try {
            Workload.resetSchema(pg, maria);
            variant = create(variantKey, pg, maria, maxThreads, work, serverJar, props(args.get("xatm-props", "")),
                    jvmOptions(args.get("server-jvm", "")));
            server = variant.coordinatorPid() > 0 ? JvmProbe.attach(variant.coordinatorPid()) : null;
            ThreadCountMeasurement m = new ThreadCountMeasurement(variant, JvmProbe.self(), server);
            AtomicLong ids = new AtomicLong();
            long committedRun = 0;
            for (int t : threads) {
                WarmupPlan plan = new WarmupPlan(measured.isEmpty() ? warmupMs : rewarmMs, warmupMaxMs, WarmupPlan.DEFAULT_SLICE_MS);
                String prefix = threads.size() == 1 ? "" : "t" + t + "-";
                ThreadCountMeasurement.JfrFiles files = !jfr ? null
                        : new ThreadCountMeasurement.JfrFiles(work.resolve(prefix + "bench.jfr"), work.resolve(prefix + "tm-server.jfr"));
                Map<String, String> r = m.measure(t, plan, measureMs, seed + 1000L * t, ids, files);
                committedRun += Long.parseLong(r.get("committed.total"));
                int attempts = 1;
                while (WarmupPlan.measureAgain(Double.parseDouble(r.get("jit.share")), attempts, jitRetries)) {
                    System.out.println("threads " + t + ": JIT share " + r.get("jit.share") + " in window " + attempts
                            + ", measuring again after a re-warm-up");
                    WarmupPlan again = new WarmupPlan(rewarmMs, warmupMaxMs, WarmupPlan.DEFAULT_SLICE_MS);
                    r = m.measure(t, again, measureMs, seed + 1000L * t + attempts, ids, files);
                    committedRun += Long.parseLong(r.get("committed.total"));
                    attempts++;
                }
                r.put("window.attempts", Integer.toString(attempts));
                cells.get(t).putAll(r);
                measured.add(t);
                System.out.println("threads " + t + ": " + r.get("tps") + " tx/s, warm-up " + r.get("warmup.ms") + " ms (settled "
                        + r.get("warmup.settled") + "), JIT share in the window " + r.get("jit.share"));
            }
            if (server != null) {
                server.close();
                server = null;
            }
            // Whole-run numbers known only at shutdown (e.g. a tm-server's closing log line): every cell of the run gets them.
            Map<String, String> finish = variant.finish();
            Workload.Check check = awaitCheck(pg, maria, committedRun, variant.xidMarker());
            for (Map<String, String> r : cells.values()) {
                r.putAll(finish);
                r.put("committed.run", Long.toString(committedRun));
                r.put("check.ok", Boolean.toString(check.ok()));
                r.put("check.orders", Long.toString(check.orders()));
                r.put("check.problems", String.join("; ", check.problems()));
                r.put("status", "ok");
            }
        } catch (Variant.Unavailable e) {
            cells.values().forEach(r -> {
                r.put("status", "unavailable");
                r.put("reason", e.getMessage());
            });
        } catch (Throwable e) {
            String reason = e + (measured.isEmpty() ? "" : " (after measuring " + measured + " threads; the consistency check did not run)");
            cells.values().forEach(r -> {
                r.put("status", "failed");
                r.put("reason", reason);
            });
            StringWriter sw = new StringWriter();
            e.printStackTrace(new PrintWriter(sw));
            System.err.println(sw);
        } finally {
            if (server != null) {
                try {
                    server.close();
                } catch (Throwable e) {
                    System.err.println("closing the JMX connection failed: " + e);
                }
            }
            if (variant != null) {
                try {
                    variant.close();
                } catch (Throwable e) {
                    System.err.println("close failed: " + e);
                }
            }
        }
        for (Map.Entry<Integer, Map<String, String>> c : cells.entrySet()) {
            Map<String, String> r = c.getValue();
            write(out(outSpec, c.getKey()), r);
            System.out.println("cell " + variantKey + " x" + c.getKey() + ": " + r.get("status")
                    + (r.containsKey("tps") ? " " + r.get("tps") + " tx/s" : "") + (r.containsKey("reason") ? " (" + r.get("reason") + ")" : ""));
        }
        // Narayana's and Atomikos' background threads and the gRPC channel must not keep the JVM alive.
        System.exit(0);
    }

    static Path out(String spec, int threads) {
        return Path.of(spec.replace("{threads}", Integer.toString(threads)));
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
