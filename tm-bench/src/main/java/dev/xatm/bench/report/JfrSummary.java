package dev.xatm.bench.report;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A text digest of a JFR recording made by a benchmark cell ({@code --jfr=true}): where the CPU
 * samples fall (by thread group, by top frame, by package) and where threads wait (parks, socket
 * reads, monitor waits, by total time and stack). async-profiler is not available on these
 * machines; this is the poor man's flame graph.
 *
 * <pre>java -cp tm-bench.jar:lib/* dev.xatm.bench.report.JfrSummary FILE.jfr [top]</pre>
 */
public final class JfrSummary {
    private JfrSummary() {
    }

    public static void main(String[] args) throws IOException {
        int top = args.length > 1 ? Integer.parseInt(args[1]) : 25;
        System.out.print(summarize(Path.of(args[0]), top));
    }

    public static String summarize(Path file, int top) throws IOException {
        Map<String, Long> cpuByThread = new HashMap<>();
        Map<String, Long> cpuByFrame = new HashMap<>();
        Map<String, Long> cpuByPackage = new HashMap<>();
        Map<String, Long> cpuInclusiveOurs = new HashMap<>();
        Map<String, Long> nativeByFrame = new HashMap<>();
        Map<String, Long> waitByStack = new HashMap<>();
        Map<String, Long> waitByThread = new HashMap<>();
        long cpuSamples = 0;
        long gcPauseNanos = 0;
        long gcCount = 0;
        Map<String, Long> allocByFrame = new HashMap<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            String type = e.getEventType().getName();
            switch (type) {
                case "jdk.ExecutionSample" -> {
                    cpuSamples++;
                    String thread = group(e.getThread("sampledThread"));
                    cpuByThread.merge(thread, 1L, Long::sum);
                    RecordedStackTrace st = e.getStackTrace();
                    if (st != null && !st.getFrames().isEmpty()) {
                        RecordedFrame f = st.getFrames().get(0);
                        cpuByFrame.merge(frame(f), 1L, Long::sum);
                        cpuByPackage.merge(pkg(f), 1L, Long::sum);
                        st.getFrames().stream().filter(x -> x.isJavaFrame() && frame(x).startsWith("dev.xatm"))
                                .map(JfrSummary::frame).distinct()
                                .forEach(x -> cpuInclusiveOurs.merge(x, 1L, Long::sum));
                    }
                }
                case "jdk.NativeMethodSample" -> {
                    RecordedStackTrace st = e.getStackTrace();
                    if (st != null && !st.getFrames().isEmpty()) {
                        nativeByFrame.merge(group(e.getThread("sampledThread")) + " in " + frame(st.getFrames().get(0)), 1L, Long::sum);
                    }
                }
                case "jdk.ThreadPark", "jdk.SocketRead", "jdk.JavaMonitorWait", "jdk.JavaMonitorEnter", "jdk.FileForce" -> {
                    long nanos = e.getDuration().toNanos();
                    String thread = group(e.getThread());
                    waitByThread.merge(thread + " " + type.substring(4), nanos, Long::sum);
                    waitByStack.merge(thread + " " + type.substring(4) + " at " + stack(e.getStackTrace(), 6), nanos, Long::sum);
                }
                case "jdk.GarbageCollection" -> {
                    gcCount++;
                    gcPauseNanos += e.getDuration("sumOfPauses").toNanos();
                }
                case "jdk.ObjectAllocationSample" -> {
                    RecordedStackTrace st = e.getStackTrace();
                    if (st != null && !st.getFrames().isEmpty()) {
                        allocByFrame.merge(stack(st, 3), e.getLong("weight"), Long::sum);
                    }
                }
                default -> {
                }
            }
        }
        StringBuilder out = new StringBuilder();
        out.append("recording ").append(file).append('\n');
        out.append("CPU samples: ").append(cpuSamples).append(", GCs: ").append(gcCount).append(" (pauses ")
                .append(Duration.ofNanos(gcPauseNanos).toMillis()).append(" ms)\n");
        section(out, "CPU samples by thread group", cpuByThread, top, cpuSamples, false);
        section(out, "CPU samples by package of the top frame", cpuByPackage, top, cpuSamples, false);
        section(out, "CPU samples by top frame (self)", cpuByFrame, top, cpuSamples, false);
        section(out, "CPU samples including a dev.xatm frame (inclusive)", cpuInclusiveOurs, top, cpuSamples, false);
        section(out, "Native method samples (threads in native code, e.g. blocked in a socket read)", nativeByFrame, top, 0, false);
        section(out, "Waiting, total time by thread group and event", waitByThread, top, 0, true);
        section(out, "Waiting, total time by stack", waitByStack, top, 0, true);
        section(out, "Allocation (sampled bytes) by stack", allocByFrame, top, 0, false);
        return out.toString();
    }

    private static void section(StringBuilder out, String title, Map<String, Long> m, int top, long total, boolean nanos) {
        out.append("\n## ").append(title).append('\n');
        List<Map.Entry<String, Long>> sorted = m.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top).toList();
        for (Map.Entry<String, Long> en : sorted) {
            String value = nanos ? Duration.ofNanos(en.getValue()).toMillis() + " ms" : en.getValue().toString();
            if (total > 0) {
                value += String.format(" (%.1f%%)", 100.0 * en.getValue() / total);
            }
            out.append(String.format("%14s  %s%n", value, en.getKey()));
        }
    }

    /** Thread names without their numbers, so pools show up as one line ("bench-client-N"). */
    private static String group(RecordedThread t) {
        if (t == null) {
            return "?";
        }
        String n = t.getJavaName() != null ? t.getJavaName() : t.getOSName();
        return n == null ? "?" : n.replaceAll("\\d+", "N");
    }

    private static String frame(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private static String pkg(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        String[] parts = type.split("\\.");
        return parts.length <= 3 ? type.substring(0, Math.max(0, type.lastIndexOf('.'))) : String.join(".", parts[0], parts[1], parts[2]);
    }

    private static String stack(RecordedStackTrace st, int depth) {
        if (st == null) {
            return "?";
        }
        return st.getFrames().stream().limit(depth).map(f -> shortFrame(f)).collect(Collectors.joining(" < "));
    }

    private static String shortFrame(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        return type.substring(type.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + ":" + f.getLineNumber();
    }

    /** For callers that want the digest of several recordings in one go. */
    public static Map<String, String> summarizeAll(List<Path> files, int top) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (Path f : files) {
            out.put(f.getFileName().toString(), summarize(f, top));
        }
        return out;
    }
}
