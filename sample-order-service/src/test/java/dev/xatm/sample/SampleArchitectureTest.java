package dev.xatm.sample;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The "never depends on" list of sample-order-service/README.md, enforced on the main classes.
 * The sample uses xatm as any application would: the public API of the starter ({@code dev.xatm.client}
 * itself) and of the outbox, nothing behind them.
 */
class SampleArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.xatm.sample");
    }

    // Fails when a main class of sample-order-service depends on a class in dev.xatm.client.agent.., dev.xatm.client.autoconfigure.., dev.xatm.client.context.., dev.xatm.client.coordinator.., dev.xatm.client.embedded.., dev.xatm.client.enlist.., dev.xatm.client.propagation.., dev.xatm.client.support...
    @Test
    void onlyThePublicClientApi() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.xatm.client.agent..", "dev.xatm.client.autoconfigure..", "dev.xatm.client.context..", "dev.xatm.client.coordinator..", "dev.xatm.client.embedded..", "dev.xatm.client.enlist..", "dev.xatm.client.propagation..", "dev.xatm.client.support..")
                .because("an application sees the annotation, the template and their exceptions; the machinery may change")
                .check(main);
    }

    // Fails when a main class of sample-order-service depends on a class in dev.xatm.coordinator.., dev.xatm.server.., dev.xatm.core.., dev.xatm.protocol...
    @Test
    void neverTheCoordinatorSide() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.xatm.coordinator..", "dev.xatm.server..", "dev.xatm.core..", "dev.xatm.protocol..")
                .because("the coordinator is a separate process (or the starter's embedded mode), never called directly")
                .check(main);
    }
}
