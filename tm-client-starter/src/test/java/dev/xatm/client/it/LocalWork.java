package dev.xatm.client.it;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.annotation.Transactional;

/** Plain Spring @Transactional code, unaware of global transactions. */
class LocalWork {
    private final org.springframework.beans.factory.ObjectProvider<JdbcTemplate> pg;
    private final Environment env;

    LocalWork(@Qualifier("pgJdbc") org.springframework.beans.factory.ObjectProvider<JdbcTemplate> pg, Environment env) {
        this.pg = pg;
        this.env = env;
    }

    @Transactional("pgTx")
    public void insert(long id) {
        pg.getObject().update("INSERT INTO " + env.getRequiredProperty("it.table") + " (id, note) VALUES (?, 'local')", id);
    }

    @Transactional("pgTx")
    public void insertThenFail(long id) {
        insert(id);
        throw new IllegalStateException("local transaction fails");
    }
}
