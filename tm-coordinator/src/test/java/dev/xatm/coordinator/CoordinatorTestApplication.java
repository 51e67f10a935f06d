package dev.xatm.coordinator;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;

/**
 * The coordinator alone as a Spring Boot application, for this module's {@code @SpringBootTest}s
 * (found by searching upwards from their packages): the gRPC listener, the engine and the log, as
 * tm-server runs them, without tm-server's admin HTTP API.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import(CoordinatorConfiguration.class)
public class CoordinatorTestApplication {
}
