package dev.xatm.bench;

import dev.xatm.bench.log.FileLogBenchmark;
import dev.xatm.bench.measure.ProcStat;
import dev.xatm.bench.report.Environment;
import dev.xatm.bench.report.LogReport;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The log micro-benchmark (issue 7, item 5): {@link FileLogBenchmark} under JMH at each writer count,
 * with and without group commit, one JMH run per cell, interleaved by writer count (every mode at 1
 * writer, then every mode at 4, ...) so that drift on a shared machine hits all modes alike. Checks every
 * cell (see {@link #check}), then writes docs/log-benchmark.md. Entry point: tm-bench/log-bench.sh.
 */
public final class LogBench {
    private LogBench() {
    }

    /** One cell's JMH scores (decisions/s, summed over the writer threads) and the trial's own counters. */
    public record Cell(String commit, int threads, List<Double> iterationScores, double mean, double error,
                       Properties stats, double foreignCpuShare) {
        public long num(String key) {
            return Long.parseLong(stats.getProperty(key));
        }

        public double median() {
            List<Double> s = iterationScores.stream().sorted().toList();
            int n = s.size();
            return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
        }

        public double fsyncsPerDecision() {
            return (double) num("measured.fsyncs") / num("measured.decisions");
        }
    }

    /** How JMH ran each cell, for the report. */
    public record Settings(int forks, int warmupIterations, int warmupSeconds, int iterations, int iterationSeconds,
                           List<String> jvm) {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        Path doc = Path.of(args.get("doc", "docs/log-benchmark.md"));
        String reportOnly = args.get("report-only", "");
        if (!reportOnly.isBlank()) {
            System.exit(report(Path.of(reportOnly), doc) ? 0 : 1);
        }
        List<Integer> threads = args.list("threads", "1,4,16,64").stream().map(Integer::parseInt).toList();
        List<String> modes = args.list("modes", String.join(",", FileLogBenchmark.GROUP, FileLogBenchmark.LOCKED, FileLogBenchmark.PER_DECISION));
        Settings settings = new Settings((int) args.getLong("forks", 1), (int) args.getLong("warmup-iterations", 2),
                (int) args.getLong("warmup-s", 1), (int) args.getLong("iterations", 5), (int) args.getLong("iteration-s", 2),
                args.list("jvm", "-Xms1g,-Xmx1g,-XX:+UseG1GC"));
        Path work = Files.createDirectories(Path.of(args.get("work", "tm-bench/target/log-bench")));
        for (String m : modes) {
            if (!List.of(FileLogBenchmark.GROUP, FileLogBenchmark.LOCKED, FileLogBenchmark.PER_DECISION).contains(m)) {
                throw new IllegalArgumentException("unknown mode " + m + "; known: " + FileLogBenchmark.GROUP + ", " + FileLogBenchmark.LOCKED
                        + ", " + FileLogBenchmark.PER_DECISION);
            }
        }

        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Map<String, String> machine = Environment.collectMachine();
        machine.putAll(LogReport.disk(tmp));
        Instant started = Instant.now();
        say("log benchmark: " + modes + " x writers " + threads + ", " + settings.forks() + " fork(s), warm-up "
                + settings.warmupIterations() + " x " + settings.warmupSeconds() + " s, measured " + settings.iterations() + " x "
                + settings.iterationSeconds() + " s per cell; logs in " + tmp + ", JMH output in " + work);
        for (int t : threads) {
            for (String mode : modes) {
                Path cellDir = work.resolve(mode + "-t" + t);
                Cell c = run(mode, t, settings, cellDir);
                store(cellProperties(c), cellDir.resolve("cell.properties"));
                say(String.format(Locale.ROOT, "%-13s %3d writers: median %,9.0f decisions/s (%s)  %.3f fsyncs/decision  foreign CPU %.0f%%",
                        mode, t, c.median(), LogReport.range(c), c.fsyncsPerDecision(), 100 * c.foreignCpuShare()));
            }
        }
        machine.put("load average at end", Files.readString(Path.of("/proc/loadavg")).trim());
        Duration took = Duration.between(started, Instant.now());

        Properties run = new Properties();
        run.setProperty("threads", String.join(",", threads.stream().map(String::valueOf).toList()));
        run.setProperty("modes", String.join(",", modes));
        run.setProperty("forks", Integer.toString(settings.forks()));
        run.setProperty("warmup.iterations", Integer.toString(settings.warmupIterations()));
        run.setProperty("warmup.s", Integer.toString(settings.warmupSeconds()));
        run.setProperty("iterations", Integer.toString(settings.iterations()));
        run.setProperty("iteration.s", Integer.toString(settings.iterationSeconds()));
        run.setProperty("jvm", String.join(",", settings.jvm()));
        run.setProperty("tmp", tmp.toString());
        run.setProperty("started", started.toString());
        run.setProperty("took.s", Long.toString(took.toSeconds()));
        run.setProperty("command", args.get("command", "tm-bench/log-bench.sh"));
        run.setProperty("revision", args.get("revision", ""));
        // Properties forget order: the machine facts keep theirs through numbered keys
        int i = 0;
        for (Map.Entry<String, String> e : machine.entrySet()) {
            run.setProperty(String.format(Locale.ROOT, "machine.%02d.key", i), e.getKey());
            run.setProperty(String.format(Locale.ROOT, "machine.%02d.value", i), e.getValue());
            i++;
        }
        store(run, work.resolve("run.properties"));
        System.exit(report(work, doc) ? 0 : 1);
    }

    /**
     * Checks the cells of a finished run and, if all pass, writes the report: also after editing the
     * report's wording ({@code --report-only=DIR}), without measuring again.
     */
    static boolean report(Path work, Path doc) throws IOException {
        Properties run = load(work.resolve("run.properties"));
        List<Integer> threads = Arrays.stream(run.getProperty("threads").split(",")).map(Integer::parseInt).toList();
        List<String> modes = List.of(run.getProperty("modes").split(","));
        Settings settings = new Settings(Integer.parseInt(run.getProperty("forks")), Integer.parseInt(run.getProperty("warmup.iterations")),
                Integer.parseInt(run.getProperty("warmup.s")), Integer.parseInt(run.getProperty("iterations")),
                Integer.parseInt(run.getProperty("iteration.s")), List.of(run.getProperty("jvm").split(",")));
        Map<String, String> machine = new LinkedHashMap<>();
        for (int i = 0; run.containsKey(String.format(Locale.ROOT, "machine.%02d.key", i)); i++) {
            machine.put(run.getProperty(String.format(Locale.ROOT, "machine.%02d.key", i)),
                    run.getProperty(String.format(Locale.ROOT, "machine.%02d.value", i)));
        }
        List<Cell> cells = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (int t : threads) {
            for (String mode : modes) {
                Path f = work.resolve(mode + "-t" + t).resolve("cell.properties");
                if (!Files.exists(f)) {
                    problems.add(mode + " at " + t + " writers: no result in " + f.getParent());
                    continue;
                }
                Cell c = cell(load(f));
                problems.addAll(check(c, settings));
                cells.add(c);
            }
        }
        if (!problems.isEmpty()) {
            problems.forEach(p -> say("FAILED: " + p));
            say(doc + " left unchanged");
            return false;
        }
        Files.writeString(doc, LogReport.markdown(cells, threads, modes, settings, machine, Path.of(run.getProperty("tmp")),
                Instant.parse(run.getProperty("started")), Duration.ofSeconds(Long.parseLong(run.getProperty("took.s"))),
                run.getProperty("command"), run.getProperty("revision")));
        say("wrote " + doc + " from " + work);
        return true;
    }

    private static Properties cellProperties(Cell c) {
        Properties p = new Properties();
        p.putAll(c.stats());
        p.setProperty("commit", c.commit());
        p.setProperty("threads", Integer.toString(c.threads()));
        p.setProperty("jmh.scores", String.join(",", c.iterationScores().stream().map(d -> Double.toString(d)).toList()));
        p.setProperty("jmh.mean", Double.toString(c.mean()));
        p.setProperty("jmh.error", Double.toString(c.error()));
        p.setProperty("foreign.cpu.share", Double.toString(c.foreignCpuShare()));
        return p;
    }

    private static Cell cell(Properties p) {
        List<Double> scores = Arrays.stream(p.getProperty("jmh.scores").split(",")).map(Double::parseDouble).toList();
        return new Cell(p.getProperty("commit"), Integer.parseInt(p.getProperty("threads")), scores,
                Double.parseDouble(p.getProperty("jmh.mean")), Double.parseDouble(p.getProperty("jmh.error")), p,
                Double.parseDouble(p.getProperty("foreign.cpu.share")));
    }

    private static Properties load(Path f) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(f)) {
            p.load(r);
        }
        return p;
    }

    private static void store(Properties p, Path f) throws IOException {
        try (var w = Files.newBufferedWriter(f)) {
            p.store(w, "tm-bench log benchmark; tm-bench/log-bench.sh --no-build --report-only=DIR rewrites the report");
        }
    }

    private static Cell run(String mode, int threads, Settings s, Path cellDir) throws Exception {
        Files.createDirectories(cellDir);
        Path statsDir = Files.createDirectories(cellDir.resolve("stats"));
        List<String> jvm = new ArrayList<>(s.jvm());
        // one file per fork: the fork names it after its pid
        // the fork's JVM options replace this JVM's, so the temp directory is passed on explicitly
        jvm.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
        jvm.add("-D" + FileLogBenchmark.STATS_PROPERTY + "=" + statsDir.toAbsolutePath());
        Options options = new OptionsBuilder()
                .include("^" + Pattern.quote(FileLogBenchmark.class.getName()) + "\\.durableDecision$")
                .param("commit", mode)
                .threads(threads)
                .forks(s.forks())
                .warmupIterations(s.warmupIterations())
                .warmupTime(TimeValue.seconds(s.warmupSeconds()))
                .measurementIterations(s.iterations())
                .measurementTime(TimeValue.seconds(s.iterationSeconds()))
                .jvmArgs(jvm.toArray(String[]::new))
                .shouldFailOnError(true)
                .output(cellDir.resolve("jmh.txt").toString())
                .build();
        ProcStat.Snapshot before = ProcStat.snapshot(List.of());
        Collection<RunResult> results = new Runner(options).run();
        ProcStat.Snapshot during = ProcStat.snapshot(List.of()).minus(before);
        if (results.size() != 1) {
            throw new IllegalStateException("expected one JMH result for " + mode + " at " + threads + " writers, got " + results.size());
        }
        RunResult run = results.iterator().next();
        List<Double> scores = new ArrayList<>();
        for (BenchmarkResult fork : run.getBenchmarkResults()) {
            for (IterationResult it : fork.getIterationResults()) {
                scores.add(it.getPrimaryResult().getScore());
            }
        }
        Result<?> primary = run.getPrimaryResult();
        Properties stats = sumForks(statsDir);
        // CPU the machine spent on anything but this JVM and the benchmark's forks (interrupts excluded, as in the matrix)
        double forkCpuSeconds = Long.parseLong(stats.getProperty("fork.process.cpu.ns")) / 1e9;
        double foreign = Math.max(0, during.machineBusy() - during.irq() - during.self() - forkCpuSeconds);
        double share = during.machineTotal() > 0 ? foreign / during.machineTotal() : 0;
        return new Cell(mode, threads, scores, primary.getScore(), primary.getScoreError(), stats, share);
    }

    /** Adds up the numeric counters of every fork's stats file; the text ones come from the first. */
    private static Properties sumForks(Path statsDir) throws IOException {
        Properties sum = new Properties();
        int forks = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(statsDir, "*.properties")) {
            for (Path f : files) {
                Properties p = new Properties();
                try (Reader r = Files.newBufferedReader(f)) {
                    p.load(r);
                }
                for (String k : p.stringPropertyNames()) {
                    String v = p.getProperty(k);
                    if (v.matches("-?\\d+") && sum.containsKey(k) && !k.equals("threads")) {
                        v = Long.toString(Long.parseLong(sum.getProperty(k)) + Long.parseLong(v));
                    } else if (sum.containsKey(k)) {
                        continue;
                    }
                    sum.setProperty(k, v);
                }
                forks++;
            }
        }
        if (forks == 0) {
            throw new IllegalStateException("no stats file in " + statsDir + ": did the benchmark's trial tear-down run?");
        }
        sum.setProperty("forks", Integer.toString(forks));
        return sum;
    }

    /**
     * What must hold for a cell's number to mean what the report says. Any miss fails the run
     * instead of producing a table: every decision written came back after a reopen, the measured
     * iterations are all there, and the two logs without group commit made exactly one fsync per decision.
     */
    static List<String> check(Cell c, Settings s) {
        List<String> problems = new ArrayList<>();
        String cell = c.commit() + " at " + c.threads() + " writers: ";
        if (c.num("forks") != s.forks()) {
            problems.add(cell + c.num("forks") + " stats files for " + s.forks() + " fork(s)");
        }
        if (c.iterationScores().size() != s.forks() * s.iterations() || c.num("measured.iterations") != (long) s.forks() * s.iterations()) {
            problems.add(cell + c.iterationScores().size() + " JMH scores and " + c.num("measured.iterations")
                    + " counted iterations, expected " + s.forks() * s.iterations());
        }
        if (c.num("measured.decisions") <= 0) {
            problems.add(cell + "no decision written in the measured iterations");
        }
        if (c.num("recovered.distinct.decisions") != c.num("trial.decisions") || c.num("recovered.records") != c.num("trial.decisions")) {
            problems.add(cell + "the log wrote " + c.num("trial.decisions") + " decisions, a reopen recovered " + c.num("recovered.records")
                    + " records of " + c.num("recovered.distinct.decisions") + " distinct decisions");
        }
        if (!c.commit().equals(FileLogBenchmark.GROUP) && c.num("measured.fsyncs") != c.num("measured.decisions")) {
            problems.add(cell + c.num("measured.fsyncs") + " fsyncs for " + c.num("measured.decisions")
                    + " decisions: the baseline is supposed to fsync each decision on its own");
        }
        return problems;
    }

    static void say(String s) {
        System.out.println("[log-bench] " + s);
        System.out.flush();
    }
}
