package dev.xatm.server;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * tm-server's tests sit in tm-server's own packages. A test placed in a {@code dev.xatm.coordinator}
 * package would split that package across two modules and could read tm-coordinator's
 * package-private members; the coordinator's own behaviour is tested in tm-coordinator.
 */
class TestPackagesTest {

    // Fails when a test class of tm-server lies outside dev.xatm.server.. (say, in dev.xatm.coordinator.transport).
    @Test
    void everyTestClassLivesInATmServerPackage() {
        JavaClasses tests = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.ONLY_INCLUDE_TESTS)
                .importPackages("dev.xatm");
        assertThat(tests).as("tm-server's test classes were found").anyMatch(c -> c.isEquivalentTo(TestPackagesTest.class));

        classes().should().resideInAPackage("dev.xatm.server..")
                .because("tm-coordinator's packages and package-private members belong to tm-coordinator's own tests")
                .check(tests);
    }
}
