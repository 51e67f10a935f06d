package dev.xatm.client.it;

import dev.xatm.client.propagation.PropagationKey;
import dev.xatm.client.propagation.TmXidSigner;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two Spring applications over real HTTP: the caller writes to PostgreSQL and calls the downstream
 * service, which writes to MariaDB in the caller's global transaction (signed TM-XID header, its own agent).
 */
class HttpPropagationIT extends ItSupport {
    Work caller;
    String downstreamUrl;
    /** Signs as any service of this deployment does (its key comes from the shared tm.client.auth-token). */
    TmXidSigner deployment;

    @BeforeAll
    void startApps() {
        Map<String, Object> d = baseProperties("inventory");
        withMaria(d);
        ConfigurableApplicationContext downstream = startApp(d);
        downstreamUrl = "http://127.0.0.1:" + port(downstream);
        deployment = downstream.getBean(TmXidSigner.class);
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

    HttpResponse<String> postWithHeader(long id, String tmXid) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(downstreamUrl + "/write?id=" + id))
                .header("TM-XID", tmXid).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    static long inAMinute() {
        return System.currentTimeMillis() + 60_000;
    }

    /** A malformed TM-XID is refused with 400 and a clear Problem Details body, before anything is written. */
    @Test
    void malformedHeaderIsRefused() throws Exception {
        long b = newId();
        HttpResponse<String> r = postWithHeader(b, "not a gtrid!");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        assertThat(r.body()).contains("\"status\":400").contains("Malformed TM-XID");
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** A bare gtrid (no tag), as any HTTP client could send, no longer joins: 400, nothing written. */
    @Test
    void headerWithoutTagIsRefused() throws Exception {
        long b = newId();
        HttpResponse<String> r = postWithHeader(b, prefix + ":" + clusterId() + "-never.begun");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("carries no tag");
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** A tag not made with the deployment's key is refused, and not echoed. */
    @Test
    void forgedTagIsRefused() throws Exception {
        long b = newId();
        String forged = new TmXidSigner(PropagationKey.choose("not-the-deployments-secret", null, null), Clock.systemUTC(), Duration.ZERO)
                .headerValue(prefix + ":" + clusterId() + "-never.begun", inAMinute());
        HttpResponse<String> r = postWithHeader(b, forged);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("invalid tag").doesNotContain(forged.substring(forged.indexOf(";tag=") + 5));
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** A well-formed, validly signed TM-XID the coordinator does not know is refused (409), and nothing is written. */
    @Test
    void unknownTransactionIsRefused() throws Exception {
        long b = newId();
        HttpResponse<String> r = postWithHeader(b, deployment.headerValue(prefix + ":" + clusterId() + "-never.begun", inAMinute()));
        assertThat(r.statusCode()).isEqualTo(409);
        assertThat(r.body()).contains("NOT_FOUND");
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** A TM-XID of another deployment (another cluster id) is refused with 400 before anything is written. */
    @Test
    void anotherDeploymentsTransactionIsRefused() throws Exception {
        long b = newId();
        String theirs = prefix + ":" + (clusterId().equals("othr5678") ? "othr9999" : "othr5678") + "-never.begun";
        HttpResponse<String> r = postWithHeader(b, deployment.headerValue(theirs, inAMinute()));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("another deployment");
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }
}
