package dev.xatm.server;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** tm-server: the coordinator process. See README.md in this module for how data flows through it. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class TmServerApplication {
    public static void main(String[] args) {
        SpringApplication.run(TmServerApplication.class, args);
    }
}
