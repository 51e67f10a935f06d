package dev.xatm.client.it;

import dev.xatm.testkit.TestDb;

import java.util.Map;

/** MariaDB kills the branch's connection right after XA PREPARE (or XA COMMIT) ran, reached through mysql-connector-j (XAER_RMFAIL). */
class ConnectorJLostAnswerIT extends LostAnswerItBase {
    @Override
    TestDb lossy() {
        return dbs.mariadb();
    }

    @Override
    void dataSources(Map<String, Object> p) {
        withPg(p);
        withMariaOverConnectorJ(p);
        p.put("it.maria.url", proxy.via(dbs.mariadb().connectorJUrl()));
    }
}
