package dev.xatm.testkit;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The "never depends on" list of tm-testkit/README.md, enforced on the main classes.
 * tm-testkit is shared by every module's tests, the coordinator's and the client's alike: it knows only
 * the wire contract, so any module can use it without a reactor cycle.
 */
class TestkitArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.xatm.testkit");
    }

    // Fails when a main class of tm-testkit depends on a class in dev.xatm.coordinator.., dev.xatm.server.., dev.xatm.client.., dev.xatm.outbox.., dev.xatm.core...
    @Test
    void neverAModuleItServes() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.xatm.coordinator..", "dev.xatm.server..", "dev.xatm.client..", "dev.xatm.outbox..", "dev.xatm.core..")
                .because("every one of those modules depends on tm-testkit in test scope")
                .check(main);
    }

    // Fails when a main class of tm-testkit depends on a class in org.springframework...
    @Test
    void noSpring() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.springframework..")
                .because("its helpers work in plain JUnit tests as well as in Spring ones")
                .check(main);
    }
}
