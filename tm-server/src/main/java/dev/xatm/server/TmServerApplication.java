package dev.xatm.server;

import dev.xatm.coordinator.CoordinatorConfiguration;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Import;

/**
 * tm-server: the coordinator as a process. The coordinator itself is {@link CoordinatorConfiguration}
 * in tm-coordinator; this adds the admin HTTP server, Actuator and the executable jar.
 * See README.md in this module for how data flows through it.
 */
@SpringBootApplication
@Import(CoordinatorConfiguration.class)
public class TmServerApplication {

    public static void main(String[] args) {
        SpringApplication.run(TmServerApplication.class, args);
    }
}
