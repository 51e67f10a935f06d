package dev.xatm.server;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The "never depends on" list of tm-server/README.md, enforced on the main classes.
 * tm-server is the coordinator process: tm-coordinator plus the admin HTTP API, metrics and the console.
 */
class ServerArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.xatm.server");
    }

    // Fails when a main class of tm-server depends on a class in dev.xatm.client.., dev.xatm.outbox...
    @Test
    void neverTheClient() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.xatm.client..", "dev.xatm.outbox..")
                .because("applications depend on the server's wire contract, the server never on their libraries")
                .check(main);
    }
}
