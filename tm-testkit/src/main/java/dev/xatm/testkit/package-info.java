/**
 * Helpers for xatm's integration tests, shared by every module that runs them (test scope).
 *
 * <ul>
 *   <li>{@link dev.xatm.testkit.TestDatabases} / {@link dev.xatm.testkit.TestDb}: the real
 *       PostgreSQL and MariaDB from {@code TM_TEST_PG_*} / {@code TM_TEST_MYSQL_*} (skipped with one
 *       line when absent, failed under {@code CI=true}), tables, row checks, and the list of our
 *       prepared branches ({@code pg_prepared_xacts}, {@code XA RECOVER}) filtered by our format id
 *       and a gtrid prefix;</li>
 *   <li>{@link dev.xatm.testkit.ServerProcess}: the real {@code tm-server.jar} as a child process on
 *       free ports, with kill -9 and restart on the same ports and data directory;</li>
 *   <li>{@link dev.xatm.testkit.DbSessionProxy}: a TCP proxy in front of a test database through
 *       which the database itself can be made to end the application's sessions (all of them, or the
 *       one whose XA PREPARE just ran, before its answer arrives);</li>
 *   <li>{@link dev.xatm.testkit.FakeAgent}: an agent on a real Connect stream, without XA, that
 *       records what the server sends and answers by itself or by the test's hand;</li>
 *   <li>{@link dev.xatm.testkit.Unique}, {@link dev.xatm.testkit.Ports},
 *       {@link dev.xatm.testkit.Channels}: unique names, free ports, gRPC channels with the bearer
 *       token.</li>
 * </ul>
 */
package dev.xatm.testkit;
