package dev.xatm.bench;

import dev.xatm.bench.report.CellResult;
import dev.xatm.bench.report.Environment;
import dev.xatm.bench.report.Report;
import dev.xatm.bench.report.Timing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The whole benchmark: every variant, each repeat in a JVM of its own ({@link Cell}) that runs every
 * thread count of the matrix in ascending order, and repeats interleaved (repeat 1 of every variant,
 * then repeat 2, ...) so that drift on a shared machine spreads over all variants instead of hitting
 * one. Then writes docs/benchmarks.md and docs/benchmarks.png. Entry point: tm-bench/run.sh.
 */
public final class Matrix {
    private Matrix() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        Path doc = Path.of(args.get("doc", "docs/benchmarks.md"));
        Path chart = Path.of(args.get("chart", "docs/benchmarks.png"));
        Path notes = Path.of(args.get("notes", "tm-bench/NOTES.md"));
        String reportOnly = args.get("report-only", "");
        if (!reportOnly.isBlank()) {
            rewriteReport(Path.of(reportOnly), doc, chart, notes);
            return;
        }
        List<Integer> threads = args.list("threads", "8,32,64").stream().map(String::trim).map(Integer::parseInt).sorted().distinct()
                .toList();
        List<String> variants = args.list("variants", String.join(",", Cell.DEFAULT_VARIANTS));
        long warmupMs = args.getLong("warmup-ms", Cell.DEFAULT_WARMUP_MS);
        long rewarmMs = args.getLong("rewarm-ms", Cell.DEFAULT_REWARM_MS);
        long warmupMaxMs = args.getLong("warmup-max-ms", Cell.DEFAULT_WARMUP_MAX_MS);
        long measureMs = args.getLong("measure-ms", Cell.DEFAULT_MEASURE_MS);
        int repeats = (int) args.getLong("repeats", 1);
        Path work = Files.createDirectories(Path.of(args.get("work", "tm-bench/target/run")));
        String serverJar = args.get("server-jar", "tm-server/target/tm-server.jar");
        List<String> cellJvm = args.list("cell-jvm", "-Xms1g,-Xmx1g,-XX:+UseG1GC");
        for (String v : variants) {
            if (!Cell.VARIANTS.contains(v)) {
                throw new IllegalArgumentException("unknown variant " + v + "; known: " + Cell.VARIANTS);
            }
        }

        Environment env = Environment.collect(Db.postgres(), Db.mariadb());
        Instant started = Instant.now();
        say("matrix: variants " + variants + " x threads " + threads + " x " + repeats + " repeats, one JVM per variant and repeat;"
                + " warm-up at least " + warmupMs + " ms at the first thread count and " + rewarmMs + " ms at each later one, until the"
                + " JIT settles or " + warmupMaxMs + " ms; measured " + measureMs + " ms per cell; work dir " + work);
        List<CellResult> results = new ArrayList<>();
        Map<String, CellResult> unavailable = new HashMap<>();
        for (int repeat = 1; repeat <= repeats; repeat++) {
            for (String v : variants) {
                if (unavailable.containsKey(v)) {
                    threads.forEach(t -> results.add(withThreads(unavailable.get(v), t)));
                    continue;
                }
                Timing timing = new Timing(warmupMs, rewarmMs, warmupMaxMs, measureMs);
                for (CellResult r : runVariant(v, threads, repeat, timing, work, serverJar, cellJvm)) {
                    say(String.format("%-14s %3d threads: %s", v, r.threads(), r.ok()
                            ? String.format("%,9.1f tx/s  p50 %7.2f ms  p99 %8.2f ms  errors %s  check %s  warm-up %s ms%s  JIT %s",
                            r.tps(), r.num("lat.p50.ms"), r.num("lat.p99.ms"), r.get("errors.window"), r.get("check.ok"),
                            r.get("warmup.ms"), "true".equals(r.get("warmup.settled")) ? "" : " (not settled)", r.get("jit.share")
                            + (r.get("window.attempts") == null || "1".equals(r.get("window.attempts")) ? "" : " window " + r.get("window.attempts")))
                            : r.status() + ": " + r.reason()));
                    if ("unavailable".equals(r.status())) {
                        unavailable.put(v, r);
                    }
                    results.add(r);
                }
            }
        }
        Duration took = Duration.between(started, Instant.now());
        Properties run = new Properties();
        run.setProperty("variants", String.join(",", variants));
        run.setProperty("threads", String.join(",", threads.stream().map(String::valueOf).toList()));
        run.setProperty("repeats", Integer.toString(repeats));
        run.setProperty("warmup.ms", Long.toString(warmupMs));
        run.setProperty("rewarm.ms", Long.toString(rewarmMs));
        run.setProperty("warmup.max.ms", Long.toString(warmupMaxMs));
        run.setProperty("measure.ms", Long.toString(measureMs));
        run.setProperty("started", started.toString());
        run.setProperty("took.s", Long.toString(took.toSeconds()));
        run.setProperty("command", args.get("command", "tm-bench/run.sh"));
        run.setProperty("revision", args.get("revision", ""));
        run.setProperty("cell.jvm", String.join(" ", cellJvm));
        store(run, "machine", env.machine());
        store(run, "postgres", env.postgres());
        store(run, "mariadb", env.mariadb());
        try (var w = Files.newBufferedWriter(work.resolve("run.properties"))) {
            run.store(w, "tm-bench matrix run; tm-bench/run.sh --report-only=" + work + " rewrites the report from it");
        }
        rewriteReport(work, doc, chart, notes);
        say("wrote " + doc + " and " + chart + " (" + took.toSeconds() + " s)");
    }

    /**
     * Writes the report from a finished run's directory (its run.properties and every cell's
     * result.properties): after editing NOTES.md or the report's wording, no need to measure again.
     */
    static void rewriteReport(Path work, Path doc, Path chart, Path notes) throws Exception {
        Properties run = new Properties();
        try (var r = Files.newBufferedReader(work.resolve("run.properties"))) {
            run.load(r);
        }
        List<String> variants = List.of(run.getProperty("variants").split(","));
        List<Integer> threads = java.util.Arrays.stream(run.getProperty("threads").split(",")).map(Integer::parseInt).toList();
        int repeats = Integer.parseInt(run.getProperty("repeats"));
        List<CellResult> results = new ArrayList<>();
        Map<String, CellResult> unavailable = new HashMap<>();
        for (int repeat = 1; repeat <= repeats; repeat++) {
            for (int t : threads) {
                for (String v : variants) {
                    Path f = work.resolve(v + "-t" + t + "-r" + repeat).resolve("result.properties");
                    if (Files.exists(f)) {
                        CellResult r = CellResult.read(f);
                        if ("unavailable".equals(r.status())) {
                            unavailable.put(v, r);
                        }
                        results.add(r);
                    } else if (unavailable.containsKey(v)) {
                        results.add(withThreads(unavailable.get(v), t));
                    } else {
                        results.add(CellResult.failed(v, t, "no result in " + f.getParent()));
                    }
                }
            }
        }
        Environment env = new Environment(section(run, "machine"), section(run, "postgres"), section(run, "mariadb"));
        String notesText = Files.exists(notes) ? Files.readString(notes) : "";
        // Runs from before the adaptive warm-up have no rewarm.ms / warmup.max.ms: their warm-up was fixed.
        long warmupMs = Long.parseLong(run.getProperty("warmup.ms"));
        Timing timing = new Timing(warmupMs, Long.parseLong(run.getProperty("rewarm.ms", Long.toString(warmupMs))),
                Long.parseLong(run.getProperty("warmup.max.ms", Long.toString(warmupMs))), Long.parseLong(run.getProperty("measure.ms")));
        Report.write(doc, chart, results, variants, threads, repeats, timing, env, Instant.parse(run.getProperty("started")),
                Duration.ofSeconds(Long.parseLong(run.getProperty("took.s"))), run.getProperty("command"),
                run.getProperty("revision"), notesText, run.getProperty("cell.jvm"));
    }

    private static void store(Properties p, String section, Map<String, String> values) {
        values.forEach((k, v) -> p.setProperty(section + "." + k, v));
        p.setProperty(section + "._order", String.join("|", values.keySet()));
    }

    /** A section written by {@link #store}, in its original order. */
    private static Map<String, String> section(Properties p, String section) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String k : p.getProperty(section + "._order", "").split("\\|")) {
            if (!k.isEmpty()) {
                out.put(k, p.getProperty(section + "." + k, ""));
            }
        }
        return out;
    }

    private static CellResult withThreads(CellResult r, int threads) {
        CellResult copy = new CellResult((java.util.Properties) r.p().clone());
        copy.p().setProperty("threads", Integer.toString(threads));
        return copy;
    }

    /** One repeat of one variant: a {@link Cell} JVM running every thread count; one result per thread count. */
    private static List<CellResult> runVariant(String variant, List<Integer> threads, int repeat, Timing timing, Path work,
                                               String serverJar, List<String> cellJvm) throws Exception {
        Path dir = Files.createDirectories(work.resolve(variant + "-r" + repeat));
        String out = work.resolve(variant + "-t{threads}-r" + repeat).resolve("result.properties").toString();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(cellJvm);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Cell.class.getName());
        cmd.add("--variant=" + variant);
        cmd.add("--threads=" + String.join(",", threads.stream().map(String::valueOf).toList()));
        cmd.add("--warmup-ms=" + timing.warmupMs());
        cmd.add("--rewarm-ms=" + timing.rewarmMs());
        cmd.add("--warmup-max-ms=" + timing.warmupMaxMs());
        cmd.add("--measure-ms=" + timing.measureMs());
        cmd.add("--out=" + out);
        cmd.add("--work=" + dir);
        cmd.add("--server-jar=" + serverJar);
        File log = dir.resolve("cell.log").toFile();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start();
        // start-up, schema reset, check and stop take well under 4 minutes; every thread count may use its longest warm-up,
        // every window may be measured again up to Cell.DEFAULT_JIT_RETRIES times
        long limit = threads.size() * (1L + Cell.DEFAULT_JIT_RETRIES) * (Math.max(timing.warmupMs(), timing.warmupMaxMs()) + timing.measureMs())
                + 240_000;
        boolean finished = p.waitFor(limit, TimeUnit.MILLISECONDS);
        if (!finished) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        List<CellResult> results = new ArrayList<>();
        for (int t : threads) {
            Path f = Cell.out(out, t);
            if (!finished) {
                results.add(CellResult.failed(variant, t, "the variant's JVM did not finish within " + limit / 1000 + " s; see " + log));
            } else if (!Files.exists(f)) {
                results.add(CellResult.failed(variant, t, "the variant's JVM exited with " + p.exitValue() + " and no result; see " + log));
            } else {
                results.add(CellResult.read(f));
            }
        }
        return results;
    }

    static void say(String s) {
        System.out.println("[bench " + java.time.LocalTime.now().withNano(0) + "] " + s);
    }
}
