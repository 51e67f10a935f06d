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
        List<Integer> threads = args.list("threads", "1,8,32,64").stream().map(Integer::parseInt).toList();
        List<String> variants = args.list("variants", String.join(",", Cell.VARIANTS));
        long warmupMs = args.getLong("warmup-ms", 8_000);
        long measureMs = args.getLong("measure-ms", 10_000);
        int repeats = (int) args.getLong("repeats", 1);
        Path work = Files.createDirectories(Path.of(args.get("work", "tm-bench/target/run")));
        Path doc = Path.of(args.get("doc", "docs/benchmarks.md"));
        Path chart = Path.of(args.get("chart", "docs/benchmarks.png"));
        Path notes = Path.of(args.get("notes", "tm-bench/NOTES.md"));
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
        String command = args.get("command", "tm-bench/run.sh");
        String notesText = Files.exists(notes) ? Files.readString(notes) : "";
        Report.write(doc, chart, results, variants, threads, repeats, warmupMs, measureMs, env, started, took, command,
                args.get("revision", ""), notesText, String.join(" ", cellJvm));
        say("wrote " + doc + " and " + chart + " (" + took.toSeconds() + " s)");
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
