package dev.xatm.protocol;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The "never depends on" list of tm-protocol/README.md, enforced on the main classes.
 * tm-protocol is the wire contract and the xid codec: both sides depend on it, so it depends on neither,
 * and on no framework a client or the server would be forced to carry.
 */
class ProtocolArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.xatm.protocol");
    }

    // Fails when a main class of tm-protocol depends on a class in org.springframework...
    @Test
    void noSpring() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.springframework..")
                .because("the client and the server each bring their own Spring; the contract must not pick one")
                .check(main);
    }

    // Fails when a main class of tm-protocol depends on a class in java.sql.., javax.sql...
    @Test
    void noJdbc() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("java.sql..", "javax.sql..")
                .because("a wire contract holds no database code")
                .check(main);
    }

    // Fails when a main class of tm-protocol depends on a class in dev.xatm.coordinator.., dev.xatm.server.., dev.xatm.client.., dev.xatm.outbox...
    @Test
    void neverEitherSide() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.xatm.coordinator..", "dev.xatm.server..", "dev.xatm.client..", "dev.xatm.outbox..")
                .because("both sides depend on the contract, never the other way round")
                .check(main);
    }
}
