package dev.xatm.server.it;

import com.jayway.jsonpath.JsonPath;
import dev.xatm.testkit.ServerProcess;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The admin API's cluster view (what the console's Cluster page shows) on two real tm-server processes
 * sharing one JDBC store on PostgreSQL: each server names itself and lists both lease holders, with
 * the epochs their leases carry and the tag their gtrids end with.
 */
class ClusterViewIT extends ServerItSupport {
    private String storePrefix;
    private ServerProcess second;

    @Override
    protected Map<String, String> serverProperties(TestInfo info) {
        storePrefix = "tmcv_" + Unique.suffix() + "_";
        return store(1);
    }

    private Map<String, String> store(int nodeId) {
        TestDb db = dev.xatm.testkit.TestDatabases.require().postgres();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("tm.server.store", "jdbc");
        p.put("tm.server.jdbc.url", db.url());
        p.put("tm.server.jdbc.username", db.user());
        p.put("tm.server.jdbc.password", db.password());
        p.put("tm.server.jdbc.table-prefix", storePrefix);
        p.put("tm.server.node-id", Integer.toString(nodeId));
        return p;
    }

    @AfterEach
    void stopTheSecondServerAndDropTheStore() {
        if (second != null) {
            second.close();
        }
        for (String t : new String[] {"decision", "node", "cluster", "schema_history"}) {
            pg.dropTable(storePrefix + t);
        }
    }

    @Test
    void eachServerNamesItselfAndListsEveryLeaseHolder() {
        Map<String, String> p = store(2);
        p.put("tm.server.auth-token", server.token());
        second = ServerProcess.start(getClass().getSimpleName() + "-node2", p);

        AdminClient first = admin();
        AdminClient other = new AdminClient(second);
        await("both servers see both leases").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(nodes(first)).containsExactly(1, 2);
            assertThat(nodes(other)).containsExactly(1, 2);
        });
        String view = first.get("/api/v1/cluster").body();
        assertThat((String) JsonPath.read(view, "$.store")).isEqualTo("jdbc");
        assertThat((Integer) JsonPath.read(view, "$.self.nodeId")).isEqualTo(1);
        assertThat((List<Integer>) JsonPath.read(view, "$.members[?(@.self == true)].nodeId")).containsExactly(1);
        assertThat((List<String>) JsonPath.read(view, "$.members[?(@.nodeId == 2)].address")).singleElement()
                .satisfies(a -> assertThat(a).endsWith(":" + second.grpcTarget().substring(second.grpcTarget().lastIndexOf(':') + 1)));
        int epoch = JsonPath.read(view, "$.self.epoch");
        assertThat((String) JsonPath.read(view, "$.self.ownerTag")).isEqualTo(":1." + Integer.toString(epoch, 36));
        assertThat((Integer) JsonPath.read(other.get("/api/v1/cluster").body(), "$.self.nodeId")).isEqualTo(2);
        assertThat(view).doesNotContain(server.token());
    }

    private static List<Integer> nodes(AdminClient admin) {
        HttpResponse<String> r = admin.get("/api/v1/cluster");
        assertThat(r.statusCode()).isEqualTo(200);
        return JsonPath.read(r.body(), "$.members[*].nodeId");
    }
}
