package dev.xatm.sample.deploy;

import dev.xatm.client.autoconfigure.TmClientProperties;
import dev.xatm.sample.shard.SampleProperties;
import dev.xatm.coordinator.config.TmServerProperties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Docker cannot run on our build machines, so docker-compose.yml is kept honest here: it is parsed
 * and checked against the applications themselves. Environment variables are bound with Spring
 * Boot's own relaxed binding onto the real properties classes (tm-server's TmServerProperties, the
 * starter's TmClientProperties, the sample's SampleProperties), so a misspelt variable, which Spring
 * would silently ignore, fails this test; so do a wrong host, port, database name, password or token
 * between the services, a missing health check or depends_on condition, a Dockerfile that copies a
 * jar Maven does not build, and PostgreSQL without prepared transactions.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ComposeFileTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?}");

    private Map<String, Object> services;

    @BeforeAll
    void parse() throws IOException {
        try (Reader r = Files.newBufferedReader(ROOT.resolve("docker-compose.yml"))) {
            Map<String, Object> compose = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
            services = map(compose.get("services"));
        }
    }

    @Test
    void runsTheFourServicesByDefaultAndMonitoringBehindAProfileEachWithAHealthCheck() {
        assertThat(services).containsOnlyKeys("postgres", "mysql", "tm-server", "sample-order-service", "prometheus", "grafana");
        for (String name : List.of("postgres", "mysql", "tm-server", "sample-order-service")) {
            assertThat(service(name)).as(name + " starts with a plain `docker compose up`").doesNotContainKey("profiles");
        }
        for (String name : List.of("prometheus", "grafana")) {
            assertThat(list(service(name).get("profiles")).stream().map(Object::toString)).as(name + " profiles").containsExactly("monitoring");
        }
        for (String name : services.keySet()) {
            Map<String, Object> health = map(service(name).get("healthcheck"));
            assertThat(health).as(name + " healthcheck").containsKey("test");
            assertThat(health.get("test").toString()).as(name + " healthcheck test").isNotBlank();
        }
    }

    @Test
    void postgresIs16WithPreparedTransactionsEnabled() {
        Map<String, Object> pg = service("postgres");
        assertThat(string(pg.get("image"))).startsWith("postgres:16");
        String command = pg.get("command") instanceof List<?> l ? String.join(" ", l.stream().map(Object::toString).toList())
                : string(pg.get("command"));
        Matcher m = Pattern.compile("-c\\s+max_prepared_transactions=(\\d+)").matcher(command);
        assertThat(m.find()).as("postgres command sets max_prepared_transactions: " + command).isTrue();
        // the service's pool (10 per shard by default) can hold that many prepared branches at once
        assertThat(Integer.parseInt(m.group(1))).isGreaterThanOrEqualTo(20);
    }

    @Test
    void mysqlIs84AndItsUserMayRunXaRecover() throws IOException {
        Map<String, Object> my = service("mysql");
        assertThat(string(my.get("image"))).isEqualTo("mysql:8.4");
        Map<String, String> env = env("mysql");
        String initMount = list(my.get("volumes")).stream().map(Object::toString)
                .filter(v -> v.contains(":/docker-entrypoint-initdb.d")).findFirst().orElseThrow();
        Path initDir = ROOT.resolve(initMount.substring(0, initMount.indexOf(':'))).normalize();
        assertThat(initDir).isDirectory();
        StringBuilder sql = new StringBuilder();
        try (var files = Files.list(initDir)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".sql")).toList()) {
                sql.append(Files.readString(f));
            }
        }
        assertThat(sql.toString()).contains("GRANT XA_RECOVER_ADMIN ON *.* TO '" + env.get("MYSQL_USER") + "'");
    }

    @Test
    void tmServerEnvironmentBindsOntoItsRealProperties() {
        Map<String, String> env = env("tm-server");
        Set<String> used = new HashSet<>();
        TmServerProperties p = bind(env, "tm.server", TmServerProperties.class, used);
        assertThat(unused(env, used)).as("tm-server environment variables that no tm-server property reads").isEmpty();
        assertThat(p.authToken()).isNotBlank();
        // the log directory is a volume, or a new container forgets every COMMIT decision
        assertThat(list(service("tm-server").get("volumes")).stream().map(Object::toString))
                .anyMatch(v -> v.endsWith(":" + p.file().dir()));
        int admin = serverPort(env, 7070);
        assertThat(ports("tm-server")).contains(admin, p.port());
        assertThat(service("tm-server").get("healthcheck").toString()).contains("127.0.0.1:" + admin + "/actuator/health");
    }

    @Test
    void sampleEnvironmentBindsOntoItsRealPropertiesAndPointsAtTheOtherServices() {
        Map<String, String> env = env("sample-order-service");
        Set<String> used = new HashSet<>();
        SampleProperties sample = bind(env, "sample", SampleProperties.class, used);
        TmClientProperties client = bind(env, "tm.client", TmClientProperties.class, used);
        int port = serverPort(env, 8080);
        used.add("SERVER_PORT");
        assertThat(unused(env, used)).as("sample environment variables that no property of the service reads").isEmpty();
        sample.validate();

        Map<String, String> pg = env("postgres");
        assertThat(sample.getShard0().getUrl()).matches("jdbc:postgresql://postgres:5432/" + pg.get("POSTGRES_DB") + "(\\?.*)?");
        assertThat(sample.getShard0().getUsername()).isEqualTo(pg.get("POSTGRES_USER"));
        assertThat(sample.getShard0().getPassword()).isEqualTo(pg.get("POSTGRES_PASSWORD"));
        Map<String, String> my = env("mysql");
        assertThat(sample.getShard1().getUrl()).matches("jdbc:mysql://mysql:3306/" + my.get("MYSQL_DATABASE") + "(\\?.*)?");
        assertThat(sample.getShard1().getUsername()).isEqualTo(my.get("MYSQL_USER"));
        assertThat(sample.getShard1().getPassword()).isEqualTo(my.get("MYSQL_PASSWORD"));

        TmServerProperties server = bind(env("tm-server"), "tm.server", TmServerProperties.class, new HashSet<>());
        assertThat(client.getServerAddress()).isEqualTo("tm-server:" + server.port());
        assertThat(client.getAuthToken()).isEqualTo(server.authToken());

        assertThat(ports("sample-order-service")).contains(port);
        assertThat(service("sample-order-service").get("healthcheck").toString()).contains("127.0.0.1:" + port + "/actuator/health");
    }

    @Test
    void sampleStartsOnlyOnceEverythingItNeedsIsHealthy() {
        Map<String, Object> dependsOn = map(service("sample-order-service").get("depends_on"));
        assertThat(dependsOn).containsOnlyKeys("postgres", "mysql", "tm-server");
        dependsOn.forEach((name, condition) ->
                assertThat(map(condition).get("condition")).as("depends_on " + name).isEqualTo("service_healthy"));
    }

    @Test
    void imagesAreBuiltFromTheJarsMavenBuilds() throws IOException {
        for (String name : List.of("tm-server", "sample-order-service")) {
            Map<String, Object> build = map(service(name).get("build"));
            Path context = ROOT.resolve(string(build.get("context"))).normalize();
            assertThat(context).as(name + " build context").isEqualTo(ROOT.resolve(name));
            Path dockerfile = context.resolve(string(build.getOrDefault("dockerfile", "Dockerfile")));
            String text = Files.readString(dockerfile);
            String pom = Files.readString(context.resolve("pom.xml"));
            assertThat(pom).as(name + " jar name").contains("<finalName>" + name + "</finalName>");
            assertThat(text).contains("FROM eclipse-temurin:17").contains("COPY target/" + name + ".jar ")
                    .contains("\"-jar\", \"/app/" + name + ".jar\"");
            assertThat(Files.readString(context.resolve(".dockerignore"))).contains("!target/" + name + ".jar");
        }
        assertThat(Files.readString(ROOT.resolve("tm-server/Dockerfile"))).contains("EXPOSE 7070 7071");
        assertThat(Files.readString(ROOT.resolve("sample-order-service/Dockerfile"))).contains("EXPOSE 8080");
    }

    /** Prometheus scrapes /actuator/prometheus of tm-server and the sample, which both expose it, on the ports compose gives them. */
    @Test
    void prometheusScrapesTheCoordinatorAndTheSample() throws IOException {
        Map<String, Object> config = yaml(mountedFile("prometheus", "/etc/prometheus/prometheus.yml"));
        Map<String, String> targets = new LinkedHashMap<>();
        for (Object job : list(config.get("scrape_configs"))) {
            Map<String, Object> j = map(job);
            assertThat(j.get("metrics_path")).as(j.get("job_name") + " metrics_path").isEqualTo("/actuator/prometheus");
            for (Object sc : list(j.get("static_configs"))) {
                for (Object t : list(map(sc).get("targets"))) {
                    targets.put(string(t), string(j.get("job_name")));
                }
            }
        }
        int admin = serverPort(env("tm-server"), 7070);
        int sample = serverPort(env("sample-order-service"), 8080);
        assertThat(targets).containsKeys("tm-server:" + admin, "sample-order-service:" + sample);
        assertThat(exposedEndpoints("tm-server")).contains("prometheus");
        // tm-server's metrics need an admin token: Prometheus sends the read-only one compose gives tm-server
        Map<String, Object> tmJob = list(config.get("scrape_configs")).stream().map(ComposeFileTest::map)
                .filter(j -> "tm-server".equals(j.get("job_name"))).findFirst().orElseThrow();
        Map<String, Object> authorization = map(tmJob.get("authorization"));
        assertThat(authorization.get("type")).isEqualTo("Bearer");
        assertThat(string(authorization.get("credentials"))).isEqualTo(env("tm-server").get("TM_SERVER_ADMIN_READ_TOKEN"))
                .hasSizeGreaterThanOrEqualTo(16);
        assertThat(exposedEndpoints("sample-order-service")).contains("prometheus");
        assertThat(map(service("prometheus").get("depends_on"))).containsKeys("tm-server", "sample-order-service");
    }

    /** Grafana gets the dashboard of docs/ and a Prometheus data source under the uid the dashboard names. */
    @Test
    void grafanaLoadsTheDashboardFromDocsAndItsDataSource() throws IOException {
        Path dashboard = mountedFile("grafana", "/var/lib/grafana/dashboards/xatm.json");
        assertThat(dashboard).isEqualTo(ROOT.resolve("docs/grafana-dashboard.json"));
        Path provisioning = mountedFile("grafana", "/etc/grafana/provisioning");
        Map<String, Object> datasource = map(list(yaml(provisioning.resolve("datasources/prometheus.yml")).get("datasources")).get(0));
        assertThat(datasource.get("url")).isEqualTo("http://prometheus:9090");
        Map<String, Object> provider = map(list(yaml(provisioning.resolve("dashboards/xatm.yml")).get("providers")).get(0));
        assertThat(map(provider.get("options")).get("path")).isEqualTo("/var/lib/grafana/dashboards");
        Set<String> uids = new TreeSet<>();
        Matcher m = Pattern.compile("\"uid\"\\s*:\\s*\"([^\"]+)\"").matcher(Files.readString(dashboard));
        while (m.find()) {
            uids.add(m.group(1));
        }
        assertThat(uids).as("uids in the dashboard").contains(string(datasource.get("uid")));
    }

    /**
     * Every metric the dashboard queries is one the code registers: its Prometheus name, without the
     * suffixes Micrometer adds ({@code _total}, {@code _seconds_count}, ...), is a meter name literal in
     * the main sources of tm-server, tm-coordinator or the starter, all under the one {@code xatm.} prefix.
     */
    @Test
    void theDashboardQueriesOnlyMetersTheCodeRegisters() throws IOException {
        Set<String> registered = new TreeSet<>();
        Pattern literal = Pattern.compile("\"(xatm\\.[a-z0-9.-]+)\"");
        for (String module : List.of("tm-server", "tm-coordinator", "tm-client-starter")) {
            try (var files = Files.walk(ROOT.resolve(module).resolve("src/main/java"))) {
                for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    Matcher m = literal.matcher(Files.readString(f));
                    while (m.find()) {
                        registered.add(m.group(1).replace('.', '_').replace('-', '_'));
                    }
                }
            }
        }
        Set<String> queried = new TreeSet<>();
        Matcher m = Pattern.compile("\\b(xatm_[a-z0-9_]+)").matcher(Files.readString(ROOT.resolve("docs/grafana-dashboard.json")));
        while (m.find()) {
            queried.add(m.group(1).replaceFirst("(_seconds)?(_count|_sum|_max|_bucket)$|_seconds$|_total$", ""));
        }
        assertThat(queried).as("metrics the dashboard queries").hasSizeGreaterThan(10)
                .contains("xatm_coordinator_decisions", "xatm_client_transactions", "xatm_log_fsync", "xatm_branch_prepare");
        assertThat(registered).as("meter names in the code").containsAll(queried);
    }

    // ------------------------------------------------------------------ helpers

    /** The host path compose mounts at {@code containerPath} in {@code service}. */
    private Path mountedFile(String service, String containerPath) {
        String volume = list(service(service).get("volumes")).stream().map(Object::toString)
                .filter(v -> v.contains(":" + containerPath + ":") || v.endsWith(":" + containerPath)).findFirst()
                .orElseThrow(() -> new AssertionError(service + " mounts nothing at " + containerPath));
        Path host = ROOT.resolve(volume.substring(0, volume.indexOf(':'))).normalize();
        assertThat(host).exists();
        return host;
    }

    private static Map<String, Object> yaml(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file)) {
            return map(new Yaml(new SafeConstructor(new LoaderOptions())).load(r));
        }
    }

    /** management.endpoints.web.exposure.include of a module's application.properties. */
    private static List<String> exposedEndpoints(String module) throws IOException {
        var props = new java.util.Properties();
        try (Reader r = Files.newBufferedReader(ROOT.resolve(module).resolve("src/main/resources/application.properties"))) {
            props.load(r);
        }
        return List.of(props.getProperty("management.endpoints.web.exposure.include", "").split("\\s*,\\s*"));
    }

    /**
     * Binds {@code env} as Spring Boot binds the process environment. Each variable is also bound on
     * its own, to learn whether any property of {@code type} reads it; those are added to {@code used}.
     */
    private static <T> T bind(Map<String, String> env, String prefix, Class<T> type, Set<String> used) {
        env.forEach((name, value) -> {
            boolean[] read = {false};
            binder(Map.of(name, value)).bindOrCreate(prefix, Bindable.of(type), new BindHandler() {
                @Override
                public Object onSuccess(ConfigurationPropertyName property, Bindable<?> target, BindContext context, Object result) {
                    read[0] |= context.getConfigurationProperty() != null;
                    return result;
                }
            });
            if (read[0]) {
                used.add(name);
            }
        });
        return binder(env).bindOrCreate(prefix, Bindable.of(type));
    }

    private static Binder binder(Map<String, String> env) {
        // the name matters: Spring Boot applies its environment-variable mapping (SAMPLE_SHARD0_URL ->
        // sample.shard0.url) only to a source named like the process environment's
        var source = new SystemEnvironmentPropertySource("compose-" + StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new LinkedHashMap<>(env));
        return new Binder(ConfigurationPropertySource.from(source));
    }

    private static int serverPort(Map<String, String> env, int dflt) {
        return env.containsKey("SERVER_PORT") ? Integer.parseInt(env.get("SERVER_PORT")) : dflt;
    }

    private static Set<String> unused(Map<String, String> env, Set<String> used) {
        Set<String> out = new TreeSet<>(env.keySet());
        out.removeAll(used);
        return out;
    }

    /** Container-side ports of the service's published ports. */
    private List<Integer> ports(String name) {
        return list(service(name).get("ports")).stream().map(Object::toString)
                .map(p -> Integer.parseInt(p.substring(p.lastIndexOf(':') + 1))).toList();
    }

    /** The environment with compose's ${VAR:-default} resolved as on a machine where VAR is unset. */
    private Map<String, String> env(String name) {
        Map<String, String> out = new LinkedHashMap<>();
        map(service(name).get("environment")).forEach((k, v) -> out.put(k, interpolate(string(v))));
        return out;
    }

    private static String interpolate(String value) {
        Matcher m = INTERPOLATION.matcher(value);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(m.group(2) == null ? "" : m.group(2)));
        }
        return m.appendTail(sb).toString();
    }

    private Map<String, Object> service(String name) {
        assertThat(services).containsKey(name);
        return map(services.get(name));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    private static List<?> list(Object o) {
        assertThat(o).isInstanceOf(List.class);
        return (List<?>) o;
    }

    private static String string(Object o) {
        assertThat(o).isNotNull();
        return o.toString();
    }
}
