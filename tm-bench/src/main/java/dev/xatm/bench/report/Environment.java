package dev.xatm.bench.report;

import dev.xatm.bench.Db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

/** The facts a reader needs to compare this run with another: the machine and the database settings. */
public record Environment(Map<String, String> machine, Map<String, String> postgres, Map<String, String> mariadb) {

    public static Environment collect(Db pg, Db maria) throws SQLException {
        Map<String, String> m = collectMachine();

        Map<String, String> p = new LinkedHashMap<>();
        try (Connection c = pg.connect(); Statement s = c.createStatement()) {
            p.put("version", one(s, "SELECT version()"));
            for (String setting : new String[] {"max_connections", "max_prepared_transactions", "shared_buffers", "fsync",
                    "synchronous_commit", "wal_sync_method", "full_page_writes", "commit_delay"}) {
                p.put(setting, one(s, "SHOW " + setting));
            }
        }
        Map<String, String> my = new LinkedHashMap<>();
        try (Connection c = maria.connect(); Statement s = c.createStatement()) {
            my.put("version", one(s, "SELECT VERSION()"));
            for (String v : new String[] {"max_connections", "innodb_flush_log_at_trx_commit", "sync_binlog", "log_bin",
                    "innodb_buffer_pool_size", "innodb_flush_method", "innodb_doublewrite", "tx_isolation"}) {
                try {
                    my.put(v, one(s, "SELECT @@" + v));
                } catch (SQLException unknown) {
                    my.put(v, "(unknown)");
                }
            }
        }
        return new Environment(m, p, my);
    }

    /** The machine and JDK alone (the log benchmark needs no database). */
    public static Map<String, String> collectMachine() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cores (nproc)", Integer.toString(Runtime.getRuntime().availableProcessors()));
        m.put("CPU", firstMatch(Path.of("/proc/cpuinfo"), "model name"));
        m.put("memory", firstMatch(Path.of("/proc/meminfo"), "MemTotal"));
        m.put("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("JDK", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("load average at start", read(Path.of("/proc/loadavg")));
        return m;
    }

    private static String one(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    private static String firstMatch(Path p, String key) {
        try {
            return Files.readAllLines(p).stream().filter(l -> l.startsWith(key)).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }
}
