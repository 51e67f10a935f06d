package dev.xatm.core;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * tm-core is the protocol and nothing else, both sides of it (the coordinator's {@code commit} and the
 * participant's {@code participant} packages) (STYLE "What this means for our codebase" 1, 10): no
 * network, no database, no files, no threads, no clock, no randomness. Anything of that kind lives
 * in tm-server's driver, so the core stays deterministic and can be simulated.
 */
class CoreArchitectureTest {
    private static JavaClasses core;

    @BeforeAll
    static void importMainClasses() {
        core = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.xatm.core");
    }

    private static void check(ArchRule rule) {
        rule.check(core);
    }

    @Test
    void noNetworkOrDatabase() {
        check(noClasses().should().dependOnClassesThat().resideInAnyPackage("java.net..", "javax.net..", "java.sql..", "javax.sql..")
                .because("the driver owns all I/O"));
    }

    @Test
    void noFileApis() {
        check(noClasses().should().dependOnClassesThat().resideInAnyPackage("java.nio.file..", "java.nio.channels..")
                .because("the log is the driver's business; the core only names records"));
        check(noClasses().should().dependOnClassesThat().haveFullyQualifiedName("java.io.File")
                .orShould().dependOnClassesThat().haveNameMatching("java\\.io\\..*(Stream|Reader|Writer|RandomAccessFile)")
                .because("the log is the driver's business; the core only names records"));
    }

    @Test
    void noThreadsOrConcurrency() {
        check(noClasses().should().dependOnClassesThat().resideInAPackage("java.util.concurrent..")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.lang.Thread")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.lang.ThreadLocal")
                .because("the core is single-threaded by contract; concurrency lives in the driver"));
    }

    @Test
    void noClockReads() {
        check(noClasses().should().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.time.Clock")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.time.Instant")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.time.LocalDateTime")
                .because("time enters only through Tick events and Begin deadlines"));
    }

    @Test
    void noRandomness() {
        check(noClasses().should().dependOnClassesThat().haveFullyQualifiedName("java.util.Random")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.util.SplittableRandom")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.security.SecureRandom")
                .orShould().callMethod(Math.class, "random")
                .orShould().callMethod(java.util.UUID.class, "randomUUID")
                .because("the same events must always give the same effects"));
    }

    @Test
    void noFrameworks() {
        check(noClasses().should().dependOnClassesThat().resideInAnyPackage(
                        "org.springframework..", "io.grpc..", "com.google.protobuf..", "dev.xatm.protocol..", "dev.xatm.coordinator..", "dev.xatm.server..", "dev.xatm.client..")
                .because("tm-core has no runtime dependencies (see tm-core/README.md)"));
    }

    @Test
    void theParticipantAndTheCoordinatorShareOnlyTheValueTypes() {
        check(noClasses().that().resideInAPackage("dev.xatm.core.participant..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.xatm.core.commit..", "dev.xatm.core.view..")
                .because("the two sides of the protocol meet only in the wire vocabulary of dev.xatm.core"));
        check(noClasses().that().resideInAnyPackage("dev.xatm.core.commit..", "dev.xatm.core.view..")
                .should().dependOnClassesThat().resideInAPackage("dev.xatm.core.participant..")
                .because("the two sides of the protocol meet only in the wire vocabulary of dev.xatm.core"));
    }

    @Test
    void theRulesAboveCoverTheParticipantCore() {
        // Checks that the import the rules run on holds the participant package, so that "no I/O, no
        // clock, no randomness" is enforced for it too (a rule over an empty set would pass silently).
        org.assertj.core.api.Assertions.assertThat(core.containPackage("dev.xatm.core.participant")).isTrue();
        org.assertj.core.api.Assertions.assertThat(core.get("dev.xatm.core.participant.Participant")).isNotNull();
    }
}
