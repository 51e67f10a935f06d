package dev.xatm.bench.report;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/** What one cell wrote (see dev.xatm.bench.Cell), with typed accessors for the report. */
public record CellResult(Properties p) {

    public static CellResult read(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        return new CellResult(p);
    }

    public static CellResult failed(String variant, int threads, String reason) {
        Properties p = new Properties();
        p.setProperty("variant", variant);
        p.setProperty("threads", Integer.toString(threads));
        p.setProperty("status", "failed");
        p.setProperty("reason", reason);
        return new CellResult(p);
    }

    public String variant() {
        return p.getProperty("variant");
    }

    public int threads() {
        return Integer.parseInt(p.getProperty("threads"));
    }

    public String status() {
        return p.getProperty("status", "failed");
    }

    public boolean ok() {
        return "ok".equals(status());
    }

    public String reason() {
        return p.getProperty("reason", "");
    }

    public String get(String key) {
        return p.getProperty(key, "");
    }

    /** NaN when absent or empty. */
    public double num(String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            return Double.NaN;
        }
        return Double.parseDouble(v);
    }

    public double tps() {
        return num("tps");
    }

    /** Committed transactions from start-up to stop, the denominator for whole-run counters. */
    public double committedTotal() {
        return num("committed.total");
    }

    public double committedWindow() {
        return num("committed.window");
    }
}
