package dev.xatm.client.it;

import dev.xatm.testkit.TestDb;

import java.util.Map;

/** MariaDB kills the branch's connection (mariadb-java-client: errorCode 0) right after XA PREPARE (or XA COMMIT) ran. */
class MariaDbLostAnswerIT extends LostAnswerItBase {
    @Override
    TestDb lossy() {
        return dbs.mariadb();
    }

    @Override
    void dataSources(Map<String, Object> p) {
        withPg(p);
        withMaria(p);
        p.put("it.maria.url", proxy.via(dbs.mariadb().url()));
    }
}
