package dev.xatm.client;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs the method in a global transaction: every enlisted DataSource it touches (directly, through
 * JdbcTemplate or Spring's {@code @Transactional}, or in a downstream service called over HTTP)
 * commits together or rolls back together. On a class: every public method of it.
 *
 * <p>Works on Spring beans called through their proxy (like {@code @Transactional}: a call from the
 * same object bypasses it). When the method also carries {@code @Transactional}, the global
 * transaction is the outer one. A new global transaction called from inside a local
 * {@code @Transactional} one that already holds a connection of an enlisted data source is refused
 * with {@link TmUsageException}: that database would silently stay out of it. Local transactions go
 * inside, never around.
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Documented
public @interface GlobalTransactional {
    /** Name shown by the coordinator; defaults to {@code Class.method}. */
    String name() default "";

    /** {@link #timeoutMs()}'s default: use {@code tm.client.default-timeout-ms}. */
    long DEFAULT_TIMEOUT = -1;

    /**
     * Deadline from begin, in milliseconds; past it the coordinator rolls the transaction back.
     * Positive, or {@link #DEFAULT_TIMEOUT} (the default) for {@code tm.client.default-timeout-ms}.
     */
    long timeoutMs() default DEFAULT_TIMEOUT;

    /**
     * The commit protocol; {@link CommitProtocol#THREE_PHASE} for three-phase commit. A method that
     * joins an existing global transaction (REQUIRED, SUPPORTS, MANDATORY) runs in that transaction's
     * protocol, as spring-tx ignores an inner method's isolation level.
     */
    CommitProtocol protocol() default CommitProtocol.TWO_PHASE;

    /** Exception types that roll back (in addition to unchecked exceptions and errors). */
    Class<? extends Throwable>[] rollbackFor() default {};

    /** Exception types that do not roll back. */
    Class<? extends Throwable>[] noRollbackFor() default {};

    Propagation propagation() default Propagation.REQUIRED;
}
