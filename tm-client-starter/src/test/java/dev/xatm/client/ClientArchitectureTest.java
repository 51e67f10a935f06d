package dev.xatm.client;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The "never depends on" list of tm-client-starter/README.md, enforced on the main classes.
 * The starter talks to the coordinator only through tm-protocol; the embedded mode's configuration is
 * the one class that touches tm-coordinator.
 */
class ClientArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.xatm.client");
    }

    // Fails when a main class of tm-client-starter depends on a class in dev.xatm.server...
    @Test
    void neverTmServer() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.xatm.server..")
                .because("the client never needs the coordinator process, only its wire contract")
                .check(main);
    }

    // Fails when a main class of tm-client-starter depends on a class in dev.xatm.core...
    @Test
    void neverTheCoreDirectly() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.xatm.core..")
                .because("the protocol core is the coordinator's; the client reaches only the id grammar, through tm-protocol's TmXid")
                .check(main);
    }

    // Fails when a main class outside dev.xatm.client.embedded depends on tm-coordinator.
    @Test
    void onlyTheEmbeddedModeTouchesTheCoordinator() {
        noClasses().that().resideOutsideOfPackage("dev.xatm.client.embedded..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.xatm.coordinator..")
                .because("tm-coordinator is optional: only the embedded mode's configuration, which applies when it is on the"
                        + " class path, may use it")
                .check(main);
    }
}
