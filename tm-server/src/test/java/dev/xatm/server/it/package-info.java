/**
 * Out-of-process integration tests of tm-server against real PostgreSQL and MariaDB (failsafe,
 * {@code *IT}, run by {@code mvn -B verify} after the jar is packaged).
 *
 * <p>The pieces:
 * <ul>
 *   <li>from tm-testkit ({@code dev.xatm.testkit}): {@code TestDatabases} / {@code TestDb}, the
 *       databases from {@code TM_TEST_PG_*} / {@code TM_TEST_MYSQL_*} and the list of our prepared
 *       branches; {@code ServerProcess}, the real {@code tm-server.jar} as a child process with
 *       kill -9 and restart; {@code Unique}, {@code Channels};</li>
 *   <li>{@link dev.xatm.server.it.ServerItSupport}: one server, fresh tables and the end-of-test
 *       checks per test;</li>
 *   <li>{@link dev.xatm.server.it.TestAgent}: an agent holding real XA branches, a thin driver of
 *       tm-core's participant core (every 2PC and 3PC decision, timers included, is the core's),
 *       with per-instance transport and process faults and crash points; its parts are
 *       {@code AgentStream}, {@code Switchboard}, {@code ParticipantDriver}, {@code XaSessions},
 *       {@code WireMessages}, {@code AgentFaults}, {@code AgentObservations} and {@code ServerCommandChecks}
 *       (the oracle on commands a correct server never sends);
 *       {@link dev.xatm.server.it.TmClient}: the TM role;</li>
 *   <li>{@link dev.xatm.server.it.FakeCoordinator}: a scripted stream peer to test the agent alone.</li>
 * </ul>
 *
 * <p>Locally: {@code .ci/run --provision-only} sets the databases up (the test account's password is
 * {@code TEST_PASSWORD} in that script), export the variables it lists, then
 * {@code mvn -B -pl tm-server -am verify -Dit.test=CrashRecoveryIT -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false}.
 * Post-mortems: each server's output is in {@code tm-server/target/it-logs/<Class>-<test>.log} ({@code <Class>-2pc-<test>.log}
 * and {@code -3pc-} for CrashPointIT, which runs once per protocol), the
 * test JVM's (agents, drivers) in {@code it-tests.log} beside them, the servers' log directories in
 * {@code target/it-data}.
 */
package dev.xatm.server.it;
