package dev.xatm.bench.measure;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time from Linux /proc, for the whole machine and per process: the benchmark JVM, the separate
 * tm-server processes, and the database servers (every process named postgres, every mariadbd/mysqld). On two
 * shared cores the split says where a transaction's CPU goes, and "other" shows how much foreign
 * work ran during a measurement.
 */
public final class ProcStat {
    /** USER_HZ: 100 on every Linux x86 build; /proc reports CPU time in these ticks. */
    private static final double TICKS_PER_SECOND = 100.0;

    private ProcStat() {
    }

    /** CPU seconds by who used them, at one instant. */
    public record Snapshot(double machineBusy, double machineTotal, double irq, double self, double server, double postgres,
                           double mariadb) {
        public Snapshot minus(Snapshot o) {
            return new Snapshot(machineBusy - o.machineBusy, machineTotal - o.machineTotal, irq - o.irq, self - o.self,
                    server - o.server, postgres - o.postgres, mariadb - o.mariadb);
        }

        /**
         * Busy CPU no measured process accounts for, kernel interrupt time excluded: foreign work
         * (other builds), kernel threads, short-lived processes.
         */
        public double other() {
            return Math.max(0, machineBusy - irq - self - server - postgres - mariadb);
        }
    }

    /** {@code serverPids}: the separate coordinator processes, their CPU summed into {@link Snapshot#server()}. */
    public static Snapshot snapshot(java.util.List<Long> serverPids) {
        double[] machine = machine();
        double pg = 0;
        double maria = 0;
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : procs) {
                String comm;
                try {
                    comm = Files.readString(p.resolve("comm")).trim();
                } catch (IOException gone) {
                    continue;
                }
                if (comm.equals("postgres")) {
                    pg += seconds(p);
                } else if (comm.equals("mariadbd") || comm.equals("mysqld")) {
                    maria += seconds(p);
                }
            }
        } catch (IOException e) {
            // no /proc: not Linux; the report shows zeros
        }
        double self = seconds(Path.of("/proc", Long.toString(ProcessHandle.current().pid())));
        double server = 0;
        for (long pid : serverPids) {
            server += seconds(Path.of("/proc", Long.toString(pid)));
        }
        return new Snapshot(machine[0], machine[1], machine[2], self, server, pg, maria);
    }

    /**
     * CPU seconds of every thread of a process, summed by thread name with digits folded
     * ("tm-grpc-3" and "tm-grpc-7" -> "tm-grpc-N"); Linux cuts thread names to 15 characters.
     * JIT compiler and GC threads show up here, which a JFR execution sample never shows.
     */
    public static java.util.Map<String, Double> threads(long pid) {
        java.util.Map<String, Double> out = new java.util.TreeMap<>();
        addThreads(pid, out);
        return out;
    }

    /** As {@link #threads(long)}, summed over several processes (the same thread group in each adds up). */
    public static java.util.Map<String, Double> threads(java.util.List<Long> pids) {
        java.util.Map<String, Double> out = new java.util.TreeMap<>();
        for (long pid : pids) {
            addThreads(pid, out);
        }
        return out;
    }

    private static void addThreads(long pid, java.util.Map<String, Double> out) {
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : tasks) {
                try {
                    String name = Files.readString(t.resolve("comm")).trim().replaceAll("\\d+", "N");
                    out.merge(name, seconds(t), Double::sum);
                } catch (IOException gone) {
                    // thread ended
                }
            }
        } catch (IOException e) {
            // process gone or no /proc
        }
    }

    /**
     * CPU seconds of the JIT compiler threads of these processes, summed: HotSpot names them
     * "C1 CompilerThreadN" and "C2 CompilerThreadN", which Linux cuts to "C1 CompilerThre" / "C2 CompilerThre".
     */
    public static double compilerSeconds(java.util.List<Long> pids) {
        double sum = 0;
        for (long pid : pids) {
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path t : tasks) {
                    try {
                        if (isCompilerThread(Files.readString(t.resolve("comm")).trim())) {
                            sum += seconds(t);
                        }
                    } catch (IOException gone) {
                        // thread ended
                    }
                }
            } catch (IOException e) {
                // process gone or no /proc
            }
        }
        return sum;
    }

    static boolean isCompilerThread(String comm) {
        return comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre");
    }

    /** Per-thread-group difference {@code after - before}, largest first, groups under 0.05 s dropped. */
    public static String threadDelta(java.util.Map<String, Double> before, java.util.Map<String, Double> after) {
        return after.entrySet().stream()
                .map(e -> java.util.Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
                .filter(e -> e.getValue() >= 0.05)
                .sorted(java.util.Map.Entry.<String, Double>comparingByValue().reversed())
                .map(e -> String.format(java.util.Locale.ROOT, "%s=%.2f", e.getKey(), e.getValue()))
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /** utime + stime of one process (field 14 and 15 of /proc/PID/stat, counted after the command name). */
    static double seconds(Path procDir) {
        try {
            String stat = Files.readString(procDir.resolve("stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // f[0] is field 3 (state): utime is field 14 -> f[11], stime field 15 -> f[12]
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException gone) {
            return 0;
        }
    }

    /**
     * {busy, total, irq + softirq} CPU seconds of all cores since boot, from the first line of
     * /proc/stat. Interrupt time (loopback networking runs in softirq) is charged to no process.
     */
    private static double[] machine() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < Math.min(f.length, 9); i++) { // user nice system idle iowait irq softirq steal
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            long irq = Long.parseLong(f[6]) + Long.parseLong(f[7]);
            return new double[] {(total - idle) / TICKS_PER_SECOND, total / TICKS_PER_SECOND, irq / TICKS_PER_SECOND};
        } catch (IOException | RuntimeException e) {
            return new double[] {0, 0, 0};
        }
    }
}
