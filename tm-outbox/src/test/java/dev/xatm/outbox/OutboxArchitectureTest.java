package dev.xatm.outbox;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The "never depends on" list of tm-outbox/README.md, enforced on the main classes.
 * tm-outbox is a client-side library on top of the starter: it never reaches into the coordinator.
 */
class OutboxArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.xatm.outbox");
    }

    // Fails when a main class of tm-outbox depends on a class in dev.xatm.coordinator.., dev.xatm.server.., dev.xatm.core...
    @Test
    void neverTheCoordinator() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.xatm.coordinator..", "dev.xatm.server..", "dev.xatm.core..")
                .because("the outbox rides on the global transaction the starter gives it, whatever serves it")
                .check(main);
    }

    // Fails when a main class of tm-outbox depends on a class in io.grpc.., dev.xatm.protocol.v1...
    @Test
    void noGrpc() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("io.grpc..", "dev.xatm.protocol.v1..")
                .because("talking to the coordinator is the starter's business")
                .check(main);
    }
}
