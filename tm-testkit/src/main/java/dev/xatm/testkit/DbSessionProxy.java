package dev.xatm.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of one test database, through which an application under test reaches it, so
 * that a test can have the database itself end that application's sessions, and only those (other
 * builds share the database servers and the user):
 *
 * <ul>
 *   <li>{@link #killAllSessions()}: every session currently proxied is terminated by the database
 *       ({@code pg_terminate_backend} / {@code KILL CONNECTION}), wherever in the protocol it is;</li>
 *   <li>{@link #armForNextPrepare()} / {@link #armForNextCommit()}: the next XA PREPARE (or two-phase
 *       COMMIT) loses its answer and its session.</li>
 * </ul>
 *
 * Sessions are found by the proxy's client port ({@code pg_stat_activity.client_port}, the port in
 * MariaDB's {@code PROCESSLIST.HOST}). Armed, the proxy forwards the next such statement it sees
 * ({@code PREPARE TRANSACTION} / {@code COMMIT PREPARED} on PostgreSQL, {@code XA PREPARE} /
 * {@code XA COMMIT} on MariaDB), waits for the database's answer (so the statement did run), drops
 * that answer, has the database terminate the session and closes the application's socket. The
 * application sees what it sees when a database kills its connection at that moment; the database
 * keeps a prepared branch (or has committed it).
 *
 * <p>Plain-text protocols only (the URLs it hands out turn TLS off). Thread-safe.
 */
public final class DbSessionProxy implements AutoCloseable {
    private final TestDb db;
    private final String targetHost;
    private final int targetPort;
    private final ServerSocket listener;
    /** The statements (upper case) whose next occurrence loses its answer; null when not armed. */
    private final AtomicReference<List<String>> armed = new AtomicReference<>();
    private final AtomicInteger fired = new AtomicInteger();
    private final List<Socket> sockets = new ArrayList<>();
    /** The database-side sockets of the sessions open now. */
    private final Set<Socket> upstream = ConcurrentHashMap.newKeySet();
    private final AtomicInteger killed = new AtomicInteger();
    private volatile boolean closed;

    public DbSessionProxy(TestDb db) throws IOException {
        this.db = db;
        String hostPort = db.url().substring(db.url().indexOf("://") + 3).split("[/?]")[0];
        int colon = hostPort.lastIndexOf(':');
        this.targetHost = colon > 0 ? hostPort.substring(0, colon) : hostPort;
        this.targetPort = colon > 0 ? Integer.parseInt(hostPort.substring(colon + 1))
                : db.kind() == TestDb.Kind.POSTGRES ? 5432 : 3306;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "db-session-proxy");
        t.setDaemon(true);
        t.start();
    }

    /** {@code url} (the database's JDBC URL, for either driver) pointing at this proxy, TLS off. */
    public String via(String url) {
        String scheme = url.substring(0, url.indexOf("://") + 3);
        String rest = url.substring(scheme.length());
        int slash = rest.indexOf('/');
        String tail = slash >= 0 ? rest.substring(slash) : "/";
        String out = scheme + "127.0.0.1:" + listener.getLocalPort() + tail;
        if (url.startsWith("jdbc:postgresql:") && !out.contains("sslmode=")) {
            out += (out.contains("?") ? "&" : "?") + "sslmode=disable";
        }
        return out;
    }

    /** The next PREPARE through this proxy loses its answer and its session. */
    public void armForNextPrepare() {
        armed.set(List.of("PREPARE TRANSACTION", "XA PREPARE"));
    }

    /** The next two-phase COMMIT through this proxy loses its answer and its session. */
    public void armForNextCommit() {
        armed.set(List.of("COMMIT PREPARED", "XA COMMIT"));
    }

    /** How many armed statements lost their answer so far. */
    public int fired() {
        return fired.get();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket();
                server.connect(new InetSocketAddress(targetHost, targetPort), 5_000);
                synchronized (sockets) {
                    sockets.removeIf(Socket::isClosed);
                    sockets.add(client);
                    sockets.add(server);
                }
                upstream.add(server);
                Pipe pipe = new Pipe(client, server);
                start(pipe::clientToServer, "proxy-up");
                start(pipe::serverToClient, "proxy-down");
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private static void start(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    /** One application connection and its database connection. */
    private final class Pipe {
        private final Socket client;
        private final Socket server;
        /** Set once this connection forwarded the armed PREPARE: its answer is to be lost. */
        private volatile boolean losingNextAnswer;

        Pipe(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }

        void clientToServer() {
            byte[] buf = new byte[16 * 1024];
            String tail = "";
            try (InputStream in = client.getInputStream(); OutputStream out = server.getOutputStream()) {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    String text = tail + new String(buf, 0, n, StandardCharsets.ISO_8859_1);
                    String upper = text.toUpperCase(Locale.ROOT);
                    List<String> statements = armed.get();
                    if (statements != null && statements.stream().anyMatch(upper::contains) && armed.compareAndSet(statements, null)) {
                        losingNextAnswer = true;
                    }
                    tail = text.length() > 32 ? text.substring(text.length() - 32) : text;
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // either side closed
            } finally {
                closeBoth();
            }
        }

        void serverToClient() {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = server.getInputStream(); OutputStream out = client.getOutputStream()) {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    if (losingNextAnswer) {
                        // the database answered: the PREPARE ran. The answer goes nowhere, the session ends.
                        killSession(server.getLocalPort());
                        fired.incrementAndGet();
                        closeBoth();
                        return;
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // either side closed
            } finally {
                closeBoth();
            }
        }

        private void closeBoth() {
            upstream.remove(server);
            try {
                client.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            try {
                server.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    /**
     * The database terminates every session that goes through this proxy now; returns how many it
     * found. The application sees its connections die as when a DBA or a failover kills them.
     */
    public int killAllSessions() {
        List<Integer> ports = new ArrayList<>();
        for (Socket s : upstream) {
            if (!s.isClosed()) {
                ports.add(s.getLocalPort());
            }
        }
        int n = 0;
        try (Connection c = db.open()) {
            for (int port : ports) {
                n += kill(c, port) ? 1 : 0;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not terminate sessions at " + db.kind() + ": " + e.getMessage(), e);
        }
        killed.addAndGet(n);
        return n;
    }

    /** How many sessions {@link #killAllSessions()} terminated so far. */
    public int killed() {
        return killed.get();
    }

    /** The database ends the session whose client (this proxy) connected from {@code clientPort}. */
    private void killSession(int clientPort) {
        try (Connection c = db.open()) {
            kill(c, clientPort);
        } catch (SQLException e) {
            throw new IllegalStateException("could not terminate the session at " + db.kind() + ": " + e.getMessage(), e);
        }
    }

    private boolean kill(Connection c, int clientPort) throws SQLException {
        if (db.kind() == TestDb.Kind.POSTGRES) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE client_port = ? AND pid <> pg_backend_pid()")) {
                ps.setInt(1, clientPort);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getBoolean(1);
                }
            }
        }
        long id = -1;
        try (PreparedStatement ps = c.prepareStatement("SELECT ID FROM information_schema.PROCESSLIST WHERE HOST LIKE ?")) {
            ps.setString(1, "%:" + clientPort);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    id = rs.getLong(1);
                }
            }
        }
        if (id <= 0) {
            return false;
        }
        try (Statement s = c.createStatement()) {
            s.execute("KILL CONNECTION " + id);
            return true;
        } catch (SQLException gone) {
            return false; // ended by itself meanwhile (unknown thread id)
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        synchronized (sockets) {
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
    }
}
