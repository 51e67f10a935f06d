package dev.xatm.client.it.embedded;

import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The downstream service's endpoint: writes one row to its second database, in the caller's global transaction (TM-XID). */
@RestController
class EmbeddedDownstream {
    private final EmbeddedWork work;

    EmbeddedDownstream(EmbeddedWork work) {
        this.work = work;
    }

    @PostMapping("/embedded/write")
    String write(@RequestParam long id) {
        work.insertSecond(id);
        return "ok";
    }
}
