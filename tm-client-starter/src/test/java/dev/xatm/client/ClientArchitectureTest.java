package dev.xatm.client;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The "never depends on" list of tm-client-starter/README.md, enforced on the main classes.
 * The starter talks to the coordinator only through tm-protocol, drives tm-core's participant core
 * (never its coordinator); the embedded mode's configuration is the one class that touches tm-coordinator.
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

    // Fails when a main class of tm-client-starter depends on tm-core's coordinator (its engine, views or cluster rules).
    @Test
    void neverTheCoordinatorCore() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.xatm.core.commit..", "dev.xatm.core.view..",
                        "dev.xatm.core.cluster..")
                .because("the coordinator's protocol core is tm-coordinator's; the client uses only the participant core and"
                        + " the shared wire vocabulary")
                .check(main);
    }

    // Fails when a main class of tm-client-starter depends on a tm-core package other than the participant core and
    // the vocabulary at dev.xatm.core's root (a new sub-package must be allowed here on purpose).
    @Test
    void onlyTheParticipantCoreAndTheVocabulary() {
        noClasses().should().dependOnClassesThat(
                        com.tngtech.archunit.base.DescribedPredicate.describe("in a tm-core package other than participant",
                                (com.tngtech.archunit.core.domain.JavaClass c) -> c.getPackageName().startsWith("dev.xatm.core.")
                                        && !c.getPackageName().startsWith("dev.xatm.core.participant")))
                .because("the client drives the participant core and speaks the shared vocabulary, nothing else of tm-core")
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
