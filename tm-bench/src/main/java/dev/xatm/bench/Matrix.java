package dev.xatm.bench;

import dev.xatm.bench.report.CellResult;
import dev.xatm.bench.report.Environment;
import dev.xatm.bench.report.Report;

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
 * The whole benchmark: every variant at every thread count, each cell in its own JVM
 * ({@link Cell}), interleaved by thread count (all variants at 1 thread, then all at 8, ...) so
 * that drift on a shared machine spreads over all variants instead of hitting one. Then writes
 * docs/benchmarks.md and docs/benchmarks.png. Entry point: tm-bench/run.sh.
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
        List<Integer> threads = args.list("threads", "1,8,32,64").stream().map(Integer::parseInt).toList();
        List<String> variants = args.list("variants", String.join(",", Cell.DEFAULT_VARIANTS));
        long warmupMs = args.getLong("warmup-ms", 8_000);
        long measureMs = args.getLong("measure-ms", 10_000);
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
        say("matrix: variants " + variants + " x threads " + threads + " x " + repeats + ", warm-up " + warmupMs
                + " ms, measured " + measureMs + " ms per cell; work dir " + work);
        List<CellResult> results = new ArrayList<>();
        Map<String, CellResult> unavailable = new HashMap<>();
        for (int repeat = 1; repeat <= repeats; repeat++) {
            for (int t : threads) {
                for (String v : variants) {
                    if (unavailable.containsKey(v)) {
                        results.add(withThreads(unavailable.get(v), t));
                        continue;
                    }
                    String name = v + "-t" + t + "-r" + repeat;
                    CellResult r = runCell(v, t, warmupMs, measureMs, work.resolve(name), serverJar, cellJvm);
                    say(String.format("%-14s %3d threads: %s", v, t, r.ok()
                            ? String.format("%,9.1f tx/s  p50 %7.2f ms  p99 %8.2f ms  errors %s  check %s", r.tps(),
                            r.num("lat.p50.ms"), r.num("lat.p99.ms"), r.get("errors.window"), r.get("check.ok"))
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
        Report.write(doc, chart, results, variants, threads, repeats, Long.parseLong(run.getProperty("warmup.ms")),
                Long.parseLong(run.getProperty("measure.ms")), env, Instant.parse(run.getProperty("started")),
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

    private static CellResult runCell(String variant, int threads, long warmupMs, long measureMs, Path dir, String serverJar,
                                      List<String> cellJvm) throws Exception {
        Files.createDirectories(dir);
        Path out = dir.resolve("result.properties");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(cellJvm);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Cell.class.getName());
        cmd.add("--variant=" + variant);
        cmd.add("--threads=" + threads);
        cmd.add("--warmup-ms=" + warmupMs);
        cmd.add("--measure-ms=" + measureMs);
        cmd.add("--out=" + out);
        cmd.add("--work=" + dir);
        cmd.add("--server-jar=" + serverJar);
        File log = dir.resolve("cell.log").toFile();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start();
        long limit = warmupMs + measureMs + 240_000;
        if (!p.waitFor(limit, TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            return CellResult.failed(variant, threads, "cell did not finish within " + limit / 1000 + " s; see " + log);
        }
        if (!Files.exists(out)) {
            return CellResult.failed(variant, threads, "cell exited with " + p.exitValue() + " and no result; see " + log);
        }
        return CellResult.read(out);
    }

    static void say(String s) {
        System.out.println("[bench " + java.time.LocalTime.now().withNano(0) + "] " + s);
    }
}
