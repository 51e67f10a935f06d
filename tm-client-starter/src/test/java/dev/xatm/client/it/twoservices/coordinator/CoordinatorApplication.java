package dev.xatm.client.it.twoservices.coordinator;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;

/**
 * Stands in for the tm-server process of docs/two-services.md, inside the test's JVM: tm-server's
 * coordinator (tm-coordinator) with its gRPC listener and bearer-token check, started through the
 * starter's embedded mode with {@code tm.client.embedded.listen}. It has no database of its own.
 */
@SpringBootApplication(exclude = DataSourceAutoConfiguration.class)
public class CoordinatorApplication {
}
