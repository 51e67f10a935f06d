package dev.xatm.client.it;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The downstream service's endpoint: writes one row to its MariaDB, in the caller's global transaction when TM-XID says so. */
@RestController
class DownstreamController {
    private final ObjectProvider<JdbcTemplate> maria;
    private final Environment env;

    DownstreamController(@Qualifier("mariaJdbc") ObjectProvider<JdbcTemplate> maria, Environment env) {
        this.maria = maria;
        this.env = env;
    }

    @PostMapping("/write")
    String write(@RequestParam long id, @RequestParam(defaultValue = "false") boolean fail) {
        maria.getObject().update("INSERT INTO " + env.getRequiredProperty("it.table") + " (id, note) VALUES (?, 'downstream')", id);
        if (fail) {
            throw new IllegalStateException("downstream fails after writing");
        }
        return "ok";
    }
}
