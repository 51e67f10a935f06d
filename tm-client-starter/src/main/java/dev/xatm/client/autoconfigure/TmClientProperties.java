package dev.xatm.client.autoconfigure;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DurationUnit;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Settings of the xatm client starter, under {@code tm.client}. */
@ConfigurationProperties(prefix = "tm.client")
public class TmClientProperties {
    public enum Mode {
        /** Talk to a tm-server process over gRPC (tm.client.server-address). */
        REMOTE,
        /** Run the coordinator inside the application (needs tm-coordinator on the class path; settings under tm.server.*). */
        EMBEDDED
    }

    /** How a two-phase global transaction reaches its commit decision. */
    public enum CommitPath {
        /**
         * While its gtrid never left the application: no begin or branch registration calls; the calling
         * thread prepares its own branches and sends one commit request carrying their votes, then commits
         * them once the decision is durable (one branch: one-phase commit, no call at all). A transaction
         * whose gtrid goes to another service is begun and registered at that moment and is then STRICT.
         */
        ONE_ROUND_TRIP,
        /** Every transaction is begun at the coordinator, every branch registered, and the coordinator sends every prepare. */
        STRICT
    }

    /** Settings of embedded mode. */
    public static class Embedded {
        /** Whether the embedded coordinator also listens for other services on tm.server.port (as tm-server does); off by default, so embedded mode opens no port. */
        private boolean listen = false;

        public boolean isListen() {
            return listen;
        }

        public void setListen(boolean listen) {
            this.listen = listen;
        }
    }

    /** Signing of the TM-XID header that carries a global transaction to another service over HTTP. */
    public static class Propagation {
        /** Shared secret (at least 16 characters) from which every service of the deployment derives the HMAC-SHA256 key that signs and checks TM-XID headers; set the same value on all of them. Default: a key derived from tm.client.auth-token (embedded mode: tm.server.auth-token), which they already share; in embedded mode with neither, a random key good for this process only. Never logged. */
        private String secret;

        /** How far the wall clocks of two services may differ: an incoming TM-XID header is accepted, and the joined request may use the database, until the caller's deadline it carries plus this. A Duration ("2s"; a bare number is milliseconds). */
        @DurationUnit(ChronoUnit.MILLIS)
        private Duration maxClockSkew = Duration.ofSeconds(2);

        public String getSecret() {
            return secret;
        }

        public void setSecret(String secret) {
            this.secret = secret;
        }

        public Duration getMaxClockSkew() {
            return maxClockSkew;
        }

        public void setMaxClockSkew(Duration maxClockSkew) {
            this.maxClockSkew = maxClockSkew;
        }

        @Override
        public String toString() {
            return "Propagation[secret=" + (secret == null ? "(not set)" : "(set)") + ", maxClockSkew=" + maxClockSkew + "]";
        }
    }

    /** TLS of the connections to the tm-servers (remote mode), under tm.client.tls. */
    public static class Tls {
        /** Whether the channels to the tm-servers speak TLS. Unset: on exactly when tm.client.tls.bundle is set. On without a bundle: the JVM's default trusted authorities, no client certificate. */
        private Boolean enabled;

        /** Name of a Spring Boot SSL bundle (spring.ssl.bundle.pem.<name>.* or .jks.<name>.*): its truststore holds the CA that signed the tm-servers' certificates, its keystore (optional) the client certificate and key for mutual TLS (tm.server.tls.client-auth=require). */
        private String bundle;

        /** The host name checked against every tm-server's certificate instead of the host of its address (e.g. when servers are dialled by IP but certificates name a DNS name). Unset: each address's own host. */
        private String authority;

        /** Whether TLS is on: the explicit setting, or else whether a bundle is named. */
        public boolean isOn() {
            return enabled != null ? enabled : bundle != null && !bundle.isBlank();
        }

        public Boolean getEnabled() {
            return enabled;
        }

        public void setEnabled(Boolean enabled) {
            this.enabled = enabled;
        }

        public String getBundle() {
            return bundle;
        }

        public void setBundle(String bundle) {
            this.bundle = bundle;
        }

        public String getAuthority() {
            return authority;
        }

        public void setAuthority(String authority) {
            this.authority = authority;
        }
    }

    /** Whether the starter is active at all. When false, data sources are left alone and @GlobalTransactional is not applied. */
    private boolean enabled = true;

    /** Where the coordinator runs. */
    private Mode mode = Mode.REMOTE;

    /** The tm-servers' gRPC addresses (tm.server.port), host:port, comma-separated: the agent keeps a stream to each, and to every further server the cluster announces. On a file store the first connected one is used. Remote mode only. */
    private String serverAddress;

    /** Bearer token for the coordinator: tm-server's tm.server.auth-token, at least 16 characters. Never logged. Remote mode only (embedded mode uses the embedded coordinator's own). */
    private String authToken;

    /** This instance's agent id, unique among the coordinator's agents and stable across restarts if possible. Default: spring.application.name plus a random suffix. */
    private String agentId;

    /** First part of every gtrid minted here, before the deployment's cluster id (which the tm-servers generate and announce; recovery only touches prepared branches that name it). Same for every service of one deployment. */
    private String gtridPrefix = "xatm";

    /** Also recover prepared branches minted before cluster ids existed (their gtrid has this prefix and names no cluster). Turn on once after an upgrade, in the deployment that made them only; see docs/operations.md. */
    private boolean recoverLegacyXids = false;

    // The three timeouts below are Durations: "30s" and "2m" work, and a bare number keeps meaning
    // milliseconds (@DurationUnit), as it did when they were plain longs.

    /** Deadline of each begin, register and status call to the coordinator: a bare number is milliseconds, or a Duration such as "5s". */
    @DurationUnit(ChronoUnit.MILLIS)
    private Duration callTimeoutMs = Duration.ofMillis(5_000);

    /** Deadline of a commit or rollback request (waits for votes and, with wait-for-completion, phase 2): a bare number is milliseconds, or a Duration such as "60s". */
    @DurationUnit(ChronoUnit.MILLIS)
    private Duration commitTimeoutMs = Duration.ofMillis(60_000);

    /** Timeout of a global transaction whose @GlobalTransactional or template definition gives none: a bare number is milliseconds, or a Duration such as "60s". */
    @DurationUnit(ChronoUnit.MILLIS)
    private Duration defaultTimeoutMs = Duration.ofMillis(60_000);

    /** Whether a commit returns only after every branch committed (so a read right after sees the writes), or as soon as the decision is durable. With commit-path one-round-trip, a transaction that stayed in this application always returns after its own branches committed. */
    private boolean waitForCompletion = true;

    /** How transactions whose branches are all this application's commit: one-round-trip (the message budget: 2PC in one Commit call carrying the votes, 3PC in two calls carrying the CAN_COMMIT and then the PRE_COMMIT answers) or strict (the coordinator drives every phase; for tests and for the admin view of each phase). */
    private CommitPath commitPath = CommitPath.ONE_ROUND_TRIP;

    /** Keep-alive ping ack timeout (and interval, which gRPC never lets below 10 s) of the connections to the coordinators, in milliseconds; at least 1000. */
    private long keepaliveMs = 5_000;

    /** Delay before the first reconnect of one of the agent's streams, in milliseconds; doubles per failed attempt of that stream. */
    private long reconnectBackoffInitialMs = 200;

    /** Longest delay between reconnect attempts of one of the agent's streams, in milliseconds. */
    private long reconnectBackoffMaxMs = 5_000;

    /** Threads that run phase commands (XA prepare/commit/rollback) for the agent. */
    private int agentThreads = 4;

    /** Several tm-servers on a shared store: how often prepared branches whose owning server is unreachable are asked about on another server (Resume), in milliseconds. */
    private long resumeIntervalMs = 1_000;

    /** Several tm-servers on a shared store: how often a connected server is asked for the cluster's members (a new one gets a stream of its own; one no longer holding a lease gets no new transactions), in milliseconds. */
    private long membersRefreshMs = 1_000;

    /** How often the agent's recovery sweep runs XA RECOVER on every enlisted database, besides the scan on every (re)connect: a Duration ("30s", "2m"; a bare number is milliseconds). */
    private Duration recoveryInterval = Duration.ofSeconds(30);

    /** How long the recovery sweep must have seen a prepared branch of ours that this instance does not hold before it asks the coordinator about it; longer than any commit (PREPARE to decision) takes, so a branch another instance is committing is never touched. A Duration ("60s"; a bare number is milliseconds). */
    private Duration recoverySafetyInterval = Duration.ofSeconds(60);

    /** How many finished branches the agent remembers to answer a resent command identically. */
    private int finishedBranchMemory = 10_000;

    /** Check each enlisted database at start-up (PostgreSQL max_prepared_transactions > 0, MariaDB >= 10.5, XA RECOVER allowed) and refuse to start if it cannot run XA safely. */
    private boolean startupCheck = true;

    /** Bean names of DataSources never to enlist. */
    private List<String> excludedDataSources = new ArrayList<>();

    /** Resource ids by DataSource bean name; the default is the JDBC URL without credentials and parameters. */
    private Map<String, String> resourceIds = new LinkedHashMap<>();

    /** Whether TM-XID is added to outgoing RestTemplate/RestClient/WebClient calls and read from incoming requests. */
    private boolean httpPropagation = true;

    /** Whether a branch that provably wrote nothing (only plain queries ran on it) finishes itself at prepare time and votes READ_ONLY, skipping phase 2. Switch off for applications whose SELECTs call functions that write (on H2; PostgreSQL checks by itself; MySQL and MariaDB see read-only-votes-on-mysql). */
    private boolean readOnlyVotes = true;

    /** Whether branches on MySQL and MariaDB vote READ_ONLY too (with read-only-votes on). Off by default: those databases cannot confirm that a branch wrote nothing, so a SELECT calling a stored function that writes would be committed before the global decision. Turn on only if no SELECT of the application calls a function that writes. */
    private boolean readOnlyVotesOnMysql = false;

    /** Embedded mode settings. */
    private final Embedded embedded = new Embedded();

    /** TM-XID header signing. */
    private final Propagation propagation = new Propagation();

    /** TLS to the tm-servers. */
    private final Tls tls = new Tls();

    public Tls getTls() {
        return tls;
    }

    public Duration getRecoveryInterval() {
        return recoveryInterval;
    }

    public void setRecoveryInterval(Duration recoveryInterval) {
        this.recoveryInterval = recoveryInterval;
    }

    public Duration getRecoverySafetyInterval() {
        return recoverySafetyInterval;
    }

    public void setRecoverySafetyInterval(Duration recoverySafetyInterval) {
        this.recoverySafetyInterval = recoverySafetyInterval;
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public Mode getMode() {
        return mode;
    }

    public void setMode(Mode mode) {
        this.mode = mode;
    }

    public String getServerAddress() {
        return serverAddress;
    }

    public void setServerAddress(String serverAddress) {
        this.serverAddress = serverAddress;
    }

    public String getAuthToken() {
        return authToken;
    }

    public void setAuthToken(String authToken) {
        this.authToken = authToken;
    }

    public String getAgentId() {
        return agentId;
    }

    public void setAgentId(String agentId) {
        this.agentId = agentId;
    }

    public boolean isRecoverLegacyXids() {
        return recoverLegacyXids;
    }

    public void setRecoverLegacyXids(boolean recoverLegacyXids) {
        this.recoverLegacyXids = recoverLegacyXids;
    }

    public String getGtridPrefix() {
        return gtridPrefix;
    }

    public void setGtridPrefix(String gtridPrefix) {
        this.gtridPrefix = gtridPrefix;
    }

    public Duration getCallTimeoutMs() {
        return callTimeoutMs;
    }

    public void setCallTimeoutMs(Duration callTimeoutMs) {
        this.callTimeoutMs = callTimeoutMs;
    }

    public Duration getCommitTimeoutMs() {
        return commitTimeoutMs;
    }

    public void setCommitTimeoutMs(Duration commitTimeoutMs) {
        this.commitTimeoutMs = commitTimeoutMs;
    }

    public Duration getDefaultTimeoutMs() {
        return defaultTimeoutMs;
    }

    public void setDefaultTimeoutMs(Duration defaultTimeoutMs) {
        this.defaultTimeoutMs = defaultTimeoutMs;
    }

    public CommitPath getCommitPath() {
        return commitPath;
    }

    public void setCommitPath(CommitPath commitPath) {
        this.commitPath = commitPath;
    }

    public boolean isWaitForCompletion() {
        return waitForCompletion;
    }

    public void setWaitForCompletion(boolean waitForCompletion) {
        this.waitForCompletion = waitForCompletion;
    }

    public long getKeepaliveMs() {
        return keepaliveMs;
    }

    public void setKeepaliveMs(long keepaliveMs) {
        this.keepaliveMs = keepaliveMs;
    }

    public long getReconnectBackoffInitialMs() {
        return reconnectBackoffInitialMs;
    }

    public void setReconnectBackoffInitialMs(long reconnectBackoffInitialMs) {
        this.reconnectBackoffInitialMs = reconnectBackoffInitialMs;
    }

    public long getReconnectBackoffMaxMs() {
        return reconnectBackoffMaxMs;
    }

    public void setReconnectBackoffMaxMs(long reconnectBackoffMaxMs) {
        this.reconnectBackoffMaxMs = reconnectBackoffMaxMs;
    }

    public long getResumeIntervalMs() {
        return resumeIntervalMs;
    }

    public void setResumeIntervalMs(long resumeIntervalMs) {
        this.resumeIntervalMs = resumeIntervalMs;
    }

    public long getMembersRefreshMs() {
        return membersRefreshMs;
    }

    public void setMembersRefreshMs(long membersRefreshMs) {
        this.membersRefreshMs = membersRefreshMs;
    }

    public int getAgentThreads() {
        return agentThreads;
    }

    public void setAgentThreads(int agentThreads) {
        this.agentThreads = agentThreads;
    }

    public int getFinishedBranchMemory() {
        return finishedBranchMemory;
    }

    public void setFinishedBranchMemory(int finishedBranchMemory) {
        this.finishedBranchMemory = finishedBranchMemory;
    }

    public boolean isStartupCheck() {
        return startupCheck;
    }

    public void setStartupCheck(boolean startupCheck) {
        this.startupCheck = startupCheck;
    }

    public List<String> getExcludedDataSources() {
        return excludedDataSources;
    }

    public void setExcludedDataSources(List<String> excludedDataSources) {
        this.excludedDataSources = excludedDataSources;
    }

    public Map<String, String> getResourceIds() {
        return resourceIds;
    }

    public void setResourceIds(Map<String, String> resourceIds) {
        this.resourceIds = resourceIds;
    }

    public boolean isReadOnlyVotes() {
        return readOnlyVotes;
    }

    public void setReadOnlyVotes(boolean readOnlyVotes) {
        this.readOnlyVotes = readOnlyVotes;
    }

    public boolean isReadOnlyVotesOnMysql() {
        return readOnlyVotesOnMysql;
    }

    public void setReadOnlyVotesOnMysql(boolean readOnlyVotesOnMysql) {
        this.readOnlyVotesOnMysql = readOnlyVotesOnMysql;
    }

    public Embedded getEmbedded() {
        return embedded;
    }

    public Propagation getPropagation() {
        return propagation;
    }

    public boolean isHttpPropagation() {
        return httpPropagation;
    }

    public void setHttpPropagation(boolean httpPropagation) {
        this.httpPropagation = httpPropagation;
    }

    /** Fails fast on values that cannot work, naming the property. */
    void validate() {
        positive("tm.client.call-timeout-ms", callTimeoutMs.toMillis());
        positive("tm.client.commit-timeout-ms", commitTimeoutMs.toMillis());
        positive("tm.client.default-timeout-ms", defaultTimeoutMs.toMillis());
        positive("tm.client.reconnect-backoff-initial-ms", reconnectBackoffInitialMs);
        positive("tm.client.agent-threads", agentThreads);
        positive("tm.client.finished-branch-memory", finishedBranchMemory);
        positive("tm.client.resume-interval-ms", resumeIntervalMs);
        positive("tm.client.members-refresh-ms", membersRefreshMs);
        if (propagation.maxClockSkew.isNegative()) {
            throw new IllegalArgumentException("tm.client.propagation.max-clock-skew must not be negative, got " + propagation.maxClockSkew);
        }
        if (keepaliveMs < 1_000) {
            throw new IllegalArgumentException("tm.client.keepalive-ms must be >= 1000 (tm-server refuses more frequent pings), got " + keepaliveMs);
        }
        if (reconnectBackoffMaxMs < reconnectBackoffInitialMs) {
            throw new IllegalArgumentException("tm.client.reconnect-backoff-max-ms must be >= tm.client.reconnect-backoff-initial-ms");
        }
        if (tls.authority != null && !tls.authority.isBlank() && !tls.isOn()) {
            throw new IllegalArgumentException("tm.client.tls.authority is set but TLS is off: set tm.client.tls.bundle (or tm.client.tls.enabled=true)");
        }
    }

    private static void positive(String name, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
    }
}
