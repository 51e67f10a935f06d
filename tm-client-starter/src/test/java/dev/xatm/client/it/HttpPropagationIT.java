package dev.xatm.client.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two Spring applications over real HTTP: the caller writes to PostgreSQL and calls the downstream
 * service, which writes to MariaDB in the caller's global transaction (TM-XID header, its own agent).
 */
class HttpPropagationIT extends ItSupport {
    Work caller;
    String downstreamUrl;

    @BeforeAll
    void startApps() {
        Map<String, Object> d = baseProperties("inventory");
        withMaria(d);
        ConfigurableApplicationContext downstream = startApp(d);
        downstreamUrl = "http://127.0.0.1:" + port(downstream);
        Map<String, Object> c = baseProperties("orders");
        withPg(c);
        caller = startApp(c).getBean(Work.class);
    }

    @Test
    void callerAndDownstreamCommitTogether() throws Exception {
        long a = newId();
        long b = newId();
        caller.writePgAndCallDownstream(a, b, downstreamUrl, false);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(dbs.mariadb().ids(table)).contains(b);
    }

    @Test
    void callerFailureRollsBackTheDownstreamWrite() throws Exception {
        long a = newId();
        long b = newId();
        assertThatThrownBy(() -> caller.writePgAndCallDownstream(a, b, downstreamUrl, true)).isInstanceOf(IllegalStateException.class);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** The downstream fails (500) after writing: even if the caller ignored the error, its branch would vote NO. */
    @Test
    void downstreamFailureRollsBackEverything() throws Exception {
        long a = newId();
        long b = newId();
        assertThatThrownBy(() -> caller.writePgAndCallFailingDownstream(a, b, downstreamUrl))
                .isInstanceOf(RuntimeException.class);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** A malformed TM-XID is refused with 400 and a clear message, before anything is written. */
    @Test
    void malformedHeaderIsRefused() throws Exception {
        long b = newId();
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(downstreamUrl + "/write?id=" + b))
                .header("TM-XID", "not a gtrid!").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("Malformed TM-XID");
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** A well-formed TM-XID the coordinator does not know is refused (409), and nothing is written. */
    @Test
    void unknownTransactionIsRefused() throws Exception {
        long b = newId();
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(downstreamUrl + "/write?id=" + b))
                .header("TM-XID", prefix + ":" + clusterId() + "-never.begun").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(409);
        assertThat(r.body()).contains("NOT_FOUND");
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** A TM-XID of another deployment (another cluster id) is refused with 400 before anything is written. */
    @Test
    void anotherDeploymentsTransactionIsRefused() throws Exception {
        long b = newId();
        String theirs = prefix + ":" + (clusterId().equals("othr5678") ? "othr9999" : "othr5678") + "-never.begun";
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(downstreamUrl + "/write?id=" + b))
                .header("TM-XID", theirs).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("another deployment");
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }
}
