package dev.xatm.client.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts a test application as a JVM of its own, so that a test can let it die at a crash point (it
 * halts itself, like a kill -9) and bring the application back in the test's JVM. The child gets this
 * JVM's class path, a small heap and a fast start; its output goes to {@code output}.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** Runs {@code main} with {@code properties} as {@code name=value} arguments. */
    public static Process start(Class<?> main, Map<String, Object> properties, Path output) throws IOException {
        List<String> args = new ArrayList<>();
        args.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        args.add("-cp");
        args.add(System.getProperty("java.class.path"));
        args.add("-Xmx256m");
        args.add("-XX:TieredStopAtLevel=1"); // a short-lived JVM: start fast
        args.add("-XX:+UseSerialGC");
        args.add(main.getName());
        properties.forEach((k, v) -> args.add(k + "=" + v));
        return new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    }
}
