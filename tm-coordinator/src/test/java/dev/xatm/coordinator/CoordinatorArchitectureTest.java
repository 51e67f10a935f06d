package dev.xatm.coordinator;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The "never depends on" list of tm-coordinator/README.md, enforced on the main classes.
 * tm-coordinator is the coordinator as a library (engine, log, cluster, transport): tm-server and the
 * starter's embedded mode both run it, so it knows neither of them, nor any HTTP stack.
 */
class CoordinatorArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.xatm.coordinator");
    }

    // Fails when a main class of tm-coordinator depends on a class in dev.xatm.client...
    @Test
    void neverTheClient() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.xatm.client..")
                .because("the client starter embeds the coordinator, not the other way round")
                .check(main);
    }

    // Fails when a main class of tm-coordinator depends on a class in dev.xatm.server...
    @Test
    void neverTmServer() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.xatm.server..")
                .because("tm-server is the process around this library; the library must run without it (embedded mode)")
                .check(main);
    }

    // Fails when a main class of tm-coordinator depends on a class in org.springframework.web.., jakarta.servlet...
    @Test
    void noSpringMvcOrServlets() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.springframework.web..", "jakarta.servlet..")
                .because("the coordinator speaks gRPC; the admin HTTP API is tm-server's")
                .check(main);
    }

    // Fails when a main class of tm-coordinator depends on a business database's JDBC driver.
    @Test
    void noBusinessDatabaseDrivers() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.postgresql..", "org.mariadb..", "com.mysql..")
                .because("the JDBC store speaks plain JDBC through its pool; the drivers are tm-server's runtime dependencies")
                .check(main);
    }
}
