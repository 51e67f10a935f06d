package dev.xatm.client.it;

import dev.xatm.testkit.TestDb;

import java.util.Map;

/** PostgreSQL (pgjdbc) terminates the branch's backend right after PREPARE TRANSACTION (or COMMIT PREPARED) ran; MariaDB's branch is fine. */
class PostgresLostAnswerIT extends LostAnswerItBase {
    @Override
    TestDb lossy() {
        return dbs.postgres();
    }

    @Override
    void dataSources(Map<String, Object> p) {
        withPg(p);
        withMaria(p);
        p.put("it.pg.url", proxy.via(dbs.postgres().url()));
    }
}
