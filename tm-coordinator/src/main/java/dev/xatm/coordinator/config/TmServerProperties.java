package dev.xatm.coordinator.config;

import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Protocol;
import dev.xatm.core.ThreePhaseTimeouts;
import dev.xatm.coordinator.log.FileTxnLog;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.convert.DurationUnit;

import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;

/**
 * Everything tm-server reads from {@code tm.server.*}, validated once at start-up. A bad value stops
 * the process with a message that names the property; nothing is silently clamped (unlike
 * HikariCP's validateNumerics), because a coordinator running with a setting nobody asked for is
 * worse than one that does not start.
 *
 * <p>Immutable. {@link #toString()} never shows the tokens.
 *
 * @param port                     gRPC port of the client/agent protocol; 0 picks a free one
 * @param store                    where the transaction log lives: {@code file} (a local directory) or
 *                                 {@code jdbc} (a PostgreSQL or MySQL/MariaDB database)
 * @param file                     the file store's settings
 * @param jdbc                     the JDBC store's settings
 * @param nodeId                   this server's id on a JDBC store shared by several servers (1..32767)
 * @param advertisedAddress        host:port at which agents reach this server's gRPC port, written to
 *                                 its lease row and handed to agents by Members; unset = this host's
 *                                 name and {@code port}
 * @param authToken                bearer token every gRPC call must carry; null = generate one into
 *                                 {@code <file.dir>/auth-token} (see {@link ClientAuthToken})
 * @param adminToken               bearer token of the admin REST API with the resolve role (read, and force
 *                                 commit / rollback / forget), acting as operator "admin"; null = generate
 *                                 one into {@code <file.dir>/admin-token}
 * @param adminReadToken           bearer token of the admin REST API with the read role only (lists, detail,
 *                                 cluster view, console, metrics, API description), acting as operator
 *                                 "admin-read"; null = no such token
 * @param operators                named operators ({@code tm.server.operators.<name>.token} and {@code .role},
 *                                 {@code read} or {@code resolve}): each one's name is recorded with every
 *                                 forced resolution it makes
 * @param serverId                 this coordinator's name, sent to agents in Welcome
 * @param clusterId                the deployment's cluster id (4..16 of [a-z0-9]), which every gtrid names;
 *                                 unset = the one kept in the log, generated on the first start. Set it
 *                                 only to pin a known id; a log that already holds another one refuses to start
 * @param prepareTimeoutMs         how long branches may take to vote (this and the two Begin timeouts below
 *                                 are Durations: "10s" works, and a bare number keeps meaning milliseconds)
 * @param retryInitialMs           first resend interval of an unanswered phase command
 * @param retryMaxMs               the resend interval doubles up to this, then stays there (forever)
 * @param tickMs                   how often the coordinator looks at its clock (deadlines, resends)
 * @param defaultTimeoutMs         transaction timeout for a Begin with timeout_ms 0
 * @param maxTimeoutMs             the largest timeout a Begin may ask for
 * @param maxBranchesPerTransaction branches one global transaction may register
 * @param maxLiveTransactions      unfinished transactions held at once; further Begins are refused
 * @param finishedMemory           finished transactions remembered to answer repeated requests
 * @param keepaliveMs              gRPC keep-alive ping interval and ack timeout: how fast a vanished
 *                                 agent is noticed
 * @param maxInboundMessageBytes   largest gRPC message accepted; ours are a few hundred bytes
 * @param queueCapacity            requests waiting for the coordinator thread before new ones are
 *                                 refused with RESOURCE_EXHAUSTED
 * @param defaultProtocol          {@code two-phase} or {@code three-phase}: the protocol of a transaction
 *                                 whose client names none
 * @param threePhase               the timeouts of three-phase commit, coordinator and participant side
 * @param log                      how long the transaction log may stall before the coordinator acts
 * @param bindAddress              the address (IP or host name) the gRPC port listens on; unset = every
 *                                 interface. The admin HTTP port has Spring Boot's own {@code server.address}
 * @param tls                      TLS on the gRPC port ({@code tm.server.tls.*})
 */
@ConfigurationProperties("tm.server")
public record TmServerProperties(
        @DefaultValue("7071") int port,
        @DefaultValue("file") Store store,
        @DefaultValue FileStore file,
        @DefaultValue JdbcStoreSettings jdbc,
        @DefaultValue("1") int nodeId,
        String advertisedAddress,
        String authToken,
        String adminToken,
        String adminReadToken,
        Map<String, Operator> operators,
        @DefaultValue("tm-1") String serverId,
        String clusterId,
        @DefaultValue("10000") @DurationUnit(ChronoUnit.MILLIS) Duration prepareTimeoutMs,
        @DefaultValue("200") long retryInitialMs,
        @DefaultValue("5000") long retryMaxMs,
        @DefaultValue("50") long tickMs,
        @DefaultValue("60000") @DurationUnit(ChronoUnit.MILLIS) Duration defaultTimeoutMs,
        @DefaultValue("3600000") @DurationUnit(ChronoUnit.MILLIS) Duration maxTimeoutMs,
        @DefaultValue("64") int maxBranchesPerTransaction,
        @DefaultValue("100000") int maxLiveTransactions,
        @DefaultValue("10000") int finishedMemory,
        @DefaultValue("5000") long keepaliveMs,
        @DefaultValue("65536") int maxInboundMessageBytes,
        @DefaultValue("10000") int queueCapacity,
        @DefaultValue("two-phase") String defaultProtocol,
        @DefaultValue ThreePhase threePhase,
        @DefaultValue LogSettings log,
        String bindAddress,
        @DefaultValue Tls tls) {

    /**
     * How agents reach this server: {@code tm.server.advertised-address}, or this host's name and the
     * gRPC port (the configured one: with port 0 the address cannot be known before the listener binds).
     */
    public String advertisedAddressOr(int boundPort) {
        if (advertisedAddress != null) {
            return advertisedAddress;
        }
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "localhost";
        }
        return host + ":" + boundPort;
    }

    /** Upper bound for every millisecond setting: a week. Larger values are typos, not intentions. */
    private static final long MAX_MILLIS = 7L * 24 * 3600 * 1000;

    /**
     * @param dir             directory of the log segments and the generated auth-token file
     * @param segmentBytesMax a log segment is rolled over past this size
     * @param truncateCorrupt a segment damaged in the middle (intact records after the damage, or a
     *                        later segment) stops start-up unless this is true; then it is cut at the
     *                        damage and every dropped record is logged at ERROR. For one start after
     *                        the operator has decided the dropped records do not matter; a torn tail
     *                        (nothing intact after the damage) is always cut, flag or not
     */
    public record FileStore(
            @DefaultValue("./tm-data") String dir,
            @DefaultValue("67108864") long segmentBytesMax,
            @DefaultValue("false") boolean truncateCorrupt) {

        public FileStore {
            if (dir == null || dir.isBlank()) {
                throw new IllegalArgumentException("tm.server.file.dir must not be empty");
            }
            if (segmentBytesMax < FileTxnLog.Settings.SEGMENT_BYTES_MIN || segmentBytesMax > FileTxnLog.Settings.SEGMENT_BYTES_LIMIT) {
                throw new IllegalArgumentException("tm.server.file.segment-bytes-max must be between " + FileTxnLog.Settings.SEGMENT_BYTES_MIN
                        + " and " + FileTxnLog.Settings.SEGMENT_BYTES_LIMIT + ", got " + segmentBytesMax);
            }
        }

        public Path dirPath() {
            return Path.of(dir);
        }
    }

    /**
     * {@code tm.server.log.*}: the transaction log as the coordinator sees it, whichever the store.
     *
     * @param stallTimeout the longest an append may wait to be written (and synced, if asked), and the
     *                     longest the coordinator thread waits for room in a full log queue. Past it
     *                     the file store halts the process (a disk that does not finish an fsync is not
     *                     coming back without a restart) and the JDBC store refuses new work with
     *                     UNAVAILABLE, showing the store DOWN on the health endpoint, until the
     *                     database answers again. A Duration ("30s"); a bare number means milliseconds
     */
    public record LogSettings(@DefaultValue("30s") @DurationUnit(ChronoUnit.MILLIS) Duration stallTimeout) {
        public LogSettings {
            stallTimeout = stallTimeout == null ? Duration.ofSeconds(30) : stallTimeout;
            // a second at least: below that, an ordinary fsync burst or a database hiccup would halt us
            millis("log.stall-timeout", stallTimeout.toMillis(), 1_000);
        }
    }

    /**
     * Three-phase commit's timeouts ({@code tm.server.three-phase.*}). The participant ones travel to
     * the agents with each CAN_COMMIT and PRE_COMMIT, so every agent uses the server's values.
     *
     * @param canCommitTimeoutMs            the coordinator aborts when a CAN_COMMIT answer is missing this long
     * @param preCommitTimeoutMs            the coordinator aborts when a PRE_COMMIT answer is missing this long
     * @param participantCanCommitTimeoutMs a participant that answered YES to CAN_COMMIT rolls back when no
     *                                      PRE_COMMIT reaches it within this long
     * @param participantPreCommitTimeoutMs a participant that acknowledged PRE_COMMIT commits on its own when no
     *                                      decision reaches it within this long; must exceed pre-commit-timeout-ms
     */
    public record ThreePhase(
            @DefaultValue("10000") long canCommitTimeoutMs,
            @DefaultValue("10000") long preCommitTimeoutMs,
            @DefaultValue("30000") long participantCanCommitTimeoutMs,
            @DefaultValue("30000") long participantPreCommitTimeoutMs) {

        public ThreePhase {
            millis("three-phase.can-commit-timeout-ms", canCommitTimeoutMs, 1);
            millis("three-phase.pre-commit-timeout-ms", preCommitTimeoutMs, 1);
            millis("three-phase.participant-can-commit-timeout-ms", participantCanCommitTimeoutMs, 1);
            millis("three-phase.participant-pre-commit-timeout-ms", participantPreCommitTimeoutMs, 1);
            if (participantPreCommitTimeoutMs <= preCommitTimeoutMs) {
                throw new IllegalArgumentException("tm.server.three-phase.participant-pre-commit-timeout-ms ("
                        + participantPreCommitTimeoutMs + ") must be greater than tm.server.three-phase.pre-commit-timeout-ms ("
                        + preCommitTimeoutMs + "): a participant that commits on its own before the coordinator gives up"
                        + " waiting would commit what the coordinator then aborts");
            }
        }

        ThreePhaseTimeouts timeouts() {
            return new ThreePhaseTimeouts(canCommitTimeoutMs, preCommitTimeoutMs, participantCanCommitTimeoutMs,
                    participantPreCommitTimeoutMs);
        }
    }

    /**
     * One named operator of the admin REST API ({@code tm.server.operators.<name>.*}).
     *
     * @param token the operator's bearer token (16..1024 printable ASCII characters), never shown
     * @param role  {@code read} (lists, detail, cluster view, metrics) or {@code resolve} (read, and force
     *              commit / rollback / forget)
     */
    public record Operator(String token, @DefaultValue("read") String role) {
        public Operator {
            role = role == null ? "read" : role.trim().toLowerCase(Locale.ROOT);
            if (!role.equals("read") && !role.equals("resolve")) {
                throw new IllegalArgumentException("tm.server.operators.<name>.role must be 'read' or 'resolve', got '"
                        + (role.length() > 40 ? role.substring(0, 40) + "..." : role) + "'");
            }
        }

        @Override
        public String toString() {
            return "Operator{token=<" + (token == null ? "unset" : "set") + ">, role=" + role + '}';
        }
    }

    /** Parses {@code tm.server.default-protocol}: two-phase / three-phase (also 2pc / 3pc, any case, _ or -). */
    static Protocol parseProtocol(String value) {
        String v = value == null ? "two-phase" : value.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        return switch (v) {
            case "two-phase", "2pc" -> Protocol.TWO_PHASE;
            case "three-phase", "3pc" -> Protocol.THREE_PHASE;
            default -> throw new IllegalArgumentException("tm.server.default-protocol must be 'two-phase' or 'three-phase', got '"
                    + value + "'");
        };
    }

    /**
     * {@code tm.server.jdbc.*}: the database of the JDBC store.
     *
     * @param url         a {@code jdbc:postgresql:}, {@code jdbc:mysql:} or {@code jdbc:mariadb:} URL
     * @param username    the account (needs SELECT, INSERT, UPDATE, DELETE on the store's tables, and
     *                    CREATE the first time, when the server applies its schema)
     * @param password    never logged, never shown
     * @param tablePrefix prefix of the store's tables: {@code <prefix>node}, {@code <prefix>decision},
     *                    {@code <prefix>schema_history}
     * @param poolSize    connections the store keeps
     * @param leaseTtlMs  how long this server's lease lasts without a renewal (renewed every quarter of it)
     */
    public record JdbcStoreSettings(
            String url,
            String username,
            String password,
            @DefaultValue("tm_") String tablePrefix,
            @DefaultValue("4") int poolSize,
            @DefaultValue("2000") long leaseTtlMs) {

        public JdbcStoreSettings {
            tablePrefix = tablePrefix == null ? "tm_" : tablePrefix;
            if (!tablePrefix.matches("[a-z][a-z0-9_]{0,29}")) {
                throw new IllegalArgumentException("tm.server.jdbc.table-prefix must be 1..30 characters of [a-z0-9_] starting"
                        + " with a letter, got '" + tablePrefix + "'");
            }
            range("jdbc.pool-size", poolSize, 2, 64);
            millis("jdbc.lease-ttl-ms", leaseTtlMs, 200);
        }

        @Override
        public String toString() {
            return "JdbcStoreSettings{url=" + (url == null ? null : dev.xatm.coordinator.log.JdbcUrls.masked(url))
                    + ", username=" + username + ", password=<" + (password == null ? "unset" : "set") + ">, tablePrefix="
                    + tablePrefix + ", poolSize=" + poolSize + ", leaseTtlMs=" + leaseTtlMs + '}';
        }
    }

    /** Where the transaction log lives ({@code tm.server.store}). */
    public enum Store {
        /** A local directory of segment files: one server. */
        FILE,
        /** A PostgreSQL or MySQL/MariaDB database, which several servers may share. */
        JDBC;

        /** The value as written in the configuration: {@code file} or {@code jdbc}. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public TmServerProperties {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("tm.server.port must be 0..65535 (0 = any free port), got " + port);
        }
        // a value other than file or jdbc fails in the binder, whose report names the property, the value
        // and the valid values (FILE, JDBC; matched ignoring case, as tm.server.store=jdbc)
        store = store == null ? Store.FILE : store;
        if (file == null) {
            file = new FileStore("./tm-data", 67_108_864, false);
        }
        if (log == null) {
            log = new LogSettings(Duration.ofSeconds(30));
        }
        if (jdbc == null) {
            jdbc = new JdbcStoreSettings(null, null, null, "tm_", 4, 2_000);
        }
        if (store == Store.JDBC && (jdbc.url() == null || jdbc.url().isBlank())) {
            throw new IllegalArgumentException("tm.server.store=jdbc needs tm.server.jdbc.url (a jdbc:postgresql:, jdbc:mysql: or"
                    + " jdbc:mariadb: URL), tm.server.jdbc.username and tm.server.jdbc.password");
        }
        range("node-id", nodeId, 1, Short.MAX_VALUE);
        if (advertisedAddress != null && !advertisedAddress.isBlank()
                && !advertisedAddress.trim().matches("[A-Za-z0-9._\\-]{1,200}:[0-9]{1,5}|\\[[0-9A-Fa-f:.]{2,60}]:[0-9]{1,5}")) {
            throw new IllegalArgumentException("tm.server.advertised-address must be host:port (how agents reach this server's gRPC"
                    + " port), got '" + advertisedAddress + "'");
        }
        advertisedAddress = advertisedAddress == null || advertisedAddress.isBlank() ? null : advertisedAddress.trim();
        authToken = ClientAuthToken.checkConfigured("tm.server.auth-token", authToken);
        adminToken = ClientAuthToken.checkConfigured("tm.server.admin-token", adminToken);
        adminReadToken = ClientAuthToken.checkConfigured("tm.server.admin-read-token", adminReadToken);
        operators = operators == null ? Map.of() : Map.copyOf(operators);
        TokenRules.requireDistinct(authToken, adminToken, adminReadToken, operators);
        if (serverId == null || !serverId.matches("[\\x21-\\x7E]{1,128}")) {
            throw new IllegalArgumentException("tm.server.server-id must be 1..128 printable ASCII characters without spaces");
        }
        clusterId = clusterId == null || clusterId.isBlank() ? null : clusterId.trim();
        if (clusterId != null && !dev.xatm.protocol.ClusterId.isValid(clusterId)) {
            throw new IllegalArgumentException("tm.server.cluster-id must be 4..16 characters of [a-z0-9], got '"
                    + (clusterId.length() > 40 ? clusterId.substring(0, 40) + "..." : clusterId) + "'");
        }
        millis("prepare-timeout-ms", prepareTimeoutMs.toMillis(), 1);
        millis("retry-initial-ms", retryInitialMs, 1);
        millis("retry-max-ms", retryMaxMs, 1);
        millis("tick-ms", tickMs, 1);
        millis("default-timeout-ms", defaultTimeoutMs.toMillis(), 1);
        millis("max-timeout-ms", maxTimeoutMs.toMillis(), 1);
        millis("keepalive-ms", keepaliveMs, 100);
        if (retryMaxMs < retryInitialMs) {
            throw new IllegalArgumentException("tm.server.retry-max-ms (" + retryMaxMs + ") must be >= tm.server.retry-initial-ms (" + retryInitialMs + ")");
        }
        if (defaultTimeoutMs.compareTo(maxTimeoutMs) > 0) {
            throw new IllegalArgumentException("tm.server.default-timeout-ms (" + defaultTimeoutMs.toMillis() + ") must be <= tm.server.max-timeout-ms ("
                    + maxTimeoutMs.toMillis() + ")");
        }
        if (tickMs > 10_000) {
            throw new IllegalArgumentException("tm.server.tick-ms must be <= 10000 (deadlines are only checked once per tick), got " + tickMs);
        }
        // A decision record lists every branch; this bound keeps the largest one far below the log's
        // per-record limit, so no valid transaction can be refused by the log (which would halt us).
        range("max-branches-per-transaction", maxBranchesPerTransaction, 1, 1_000);
        range("max-live-transactions", maxLiveTransactions, 1, 100_000_000);
        range("finished-memory", finishedMemory, 0, 100_000_000);
        range("max-inbound-message-bytes", maxInboundMessageBytes, 1024, 16 * 1024 * 1024);
        range("queue-capacity", queueCapacity, 1, 10_000_000);
        defaultProtocol = parseProtocol(defaultProtocol) == Protocol.TWO_PHASE ? "two-phase" : "three-phase";
        if (threePhase == null) {
            threePhase = new ThreePhase(10_000, 10_000, 30_000, 30_000);
        }
        bindAddress = checkBindAddress(bindAddress);
        if (tls == null) {
            tls = new Tls(null, null, null);
        }
    }

    /**
     * {@code tm.server.tls.*}: TLS on the gRPC port, its key material from a Spring Boot SSL bundle
     * ({@code spring.ssl.bundle.pem.<name>.*} or {@code .jks.<name>.*}), the same mechanism as the
     * admin port's {@code server.ssl.bundle}.
     *
     * @param enabled    whether the gRPC port speaks TLS; unset = on exactly when a bundle is named
     * @param bundle     the SSL bundle holding the server's certificate and key (keystore) and, for
     *                   client authentication, the CA that signed the clients' certificates (truststore)
     * @param clientAuth {@code none}, {@code optional} (a client certificate is checked when one is sent)
     *                   or {@code require} (mutual TLS: a client without a certificate our truststore
     *                   accepts cannot connect)
     */
    public record Tls(Boolean enabled, String bundle, @DefaultValue("none") ClientAuth clientAuth) {
        public enum ClientAuth { NONE, OPTIONAL, REQUIRE }

        public Tls {
            bundle = bundle == null || bundle.isBlank() ? null : bundle.trim();
            enabled = enabled == null ? bundle != null : enabled;
            clientAuth = clientAuth == null ? ClientAuth.NONE : clientAuth;
            if (enabled && bundle == null) {
                throw new IllegalArgumentException("tm.server.tls.enabled=true needs tm.server.tls.bundle: the name of a Spring Boot"
                        + " SSL bundle (spring.ssl.bundle.pem.<name>.keystore.certificate and .private-key) with the server's"
                        + " certificate and key");
            }
            if (!enabled && clientAuth != ClientAuth.NONE) {
                throw new IllegalArgumentException("tm.server.tls.client-auth=" + clientAuth.name().toLowerCase(Locale.ROOT)
                        + " needs TLS on the gRPC port: set tm.server.tls.bundle");
            }
        }
    }

    /** {@code tm.server.bind-address}: trimmed, blank = every interface (null); an IP literal or a host name, no port. */
    private static String checkBindAddress(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        if (v.startsWith("[") && v.endsWith("]")) {
            v = v.substring(1, v.length() - 1); // [::1] as well as ::1
        }
        // a host name, or an IPv6 literal (at least two colons, so "host:port" is not mistaken for one)
        if (!v.matches("[A-Za-z0-9._\\-]{1,253}|(?=.*:.*:)[0-9A-Fa-f:.]{2,60}(%[A-Za-z0-9]{1,32})?")) {
            throw new IllegalArgumentException("tm.server.bind-address must be an IP address or a host name of this machine,"
                    + " without a port (that is tm.server.port), got '" + value + "'");
        }
        return v;
    }

    /**
     * Where the gRPC port listens: {@code bind-address} (resolved now, so a name that does not resolve
     * stops start-up naming the property) and {@code port}; every interface when no address is set.
     */
    public java.net.InetSocketAddress listenAddress() {
        if (bindAddress == null) {
            return new java.net.InetSocketAddress(port);
        }
        java.net.InetSocketAddress address = new java.net.InetSocketAddress(bindAddress, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("tm.server.bind-address '" + bindAddress + "' does not resolve to an address of this machine");
        }
        return address;
    }

    /** The core's view of these settings. */
    public CoordinatorConfig coordinatorConfig() {
        return new CoordinatorConfig(prepareTimeoutMs.toMillis(), retryInitialMs, retryMaxMs,
                maxBranchesPerTransaction, maxLiveTransactions, finishedMemory, threePhase.timeouts(), parseProtocol(defaultProtocol));
    }

    private static void millis(String name, long value, long min) {
        if (value < min || value > MAX_MILLIS) {
            throw new IllegalArgumentException("tm.server." + name + " must be between " + min + " and " + MAX_MILLIS + " ms, got " + value);
        }
    }

    private static void range(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException("tm.server." + name + " must be between " + min + " and " + max + ", got " + value);
        }
    }

    @Override
    public String toString() {
        return "TmServerProperties{port=" + port + ", store=" + store + ", file=" + file + ", jdbc=" + jdbc + ", nodeId=" + nodeId + ", advertisedAddress=" + advertisedAddress
                + ", authToken=" + (authToken == null ? "<generated>" : "<set>")
                + ", adminToken=" + (adminToken == null ? "<generated>" : "<set>")
                + ", adminReadToken=" + (adminReadToken == null ? "<unset>" : "<set>") + ", operators=" + operators
                + ", serverId=" + serverId + ", clusterId=" + (clusterId == null ? "<from the log>" : clusterId) + ", prepareTimeoutMs=" + prepareTimeoutMs.toMillis()
                + ", retryInitialMs=" + retryInitialMs + ", retryMaxMs=" + retryMaxMs + ", tickMs=" + tickMs
                + ", defaultTimeoutMs=" + defaultTimeoutMs.toMillis() + ", maxTimeoutMs=" + maxTimeoutMs.toMillis()
                + ", maxBranchesPerTransaction=" + maxBranchesPerTransaction
                + ", maxLiveTransactions=" + maxLiveTransactions + ", finishedMemory=" + finishedMemory
                + ", keepaliveMs=" + keepaliveMs + ", maxInboundMessageBytes=" + maxInboundMessageBytes
                + ", queueCapacity=" + queueCapacity + ", defaultProtocol=" + defaultProtocol + ", threePhase=" + threePhase
                + ", bindAddress=" + (bindAddress == null ? "<all interfaces>" : bindAddress) + ", tls=" + tls
                + ", log=" + log + '}';
    }
}
