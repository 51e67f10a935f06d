package dev.xatm.coordinator.log;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * A log is only a log: the lease, the takeovers and the membership of a shared store are built beside
 * it by the store's configuration, never inside it, and the log writes under nothing but its
 * {@link NodeFence}. So the log package's main classes depend on no other package of this module.
 */
class LogPackageDependenciesTest {

    @Test
    void theLogPackageNeverDependsOnClusterEngineOrTransport() {
        JavaClasses log = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.xatm.coordinator.log");
        noClasses().that().resideInAPackage("dev.xatm.coordinator.log..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.xatm.coordinator.cluster..", "dev.xatm.coordinator.engine..",
                        "dev.xatm.coordinator.transport..")
                .because("the cluster is wired beside the log by the store's configuration; the log knows only its fence")
                .check(log);
    }
}
