package dev.xatm.testkit;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class that needs the real PostgreSQL and MariaDB of {@link TestDatabases}. When no
 * database can be had (no {@code TM_TEST_*} variables, no Docker) the whole class is disabled before
 * its {@code @BeforeAll} runs, so JUnit reports every one of its tests as <em>skipped</em> and the
 * build's summary counts them; an assumption failing inside {@code @BeforeAll} would instead make
 * the class vanish from the count ("Tests run: 0"). Under {@code CI=true} the class runs, and
 * {@link TestDatabases#require()} fails it.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith(DatabasesCondition.class)
public @interface RequiresDatabases {
}
