package dev.xatm.client.enlist;

import dev.xatm.client.GlobalRollbackException;
import dev.xatm.client.GlobalTimeoutException;
import dev.xatm.client.context.TxScope;
import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.transaction.xa.XAResource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The branch handle and its statements, one JDBC method at a time, on a recording stand-in for the
 * driver: what a generic proxy used to pass through for free, the plain classes must now each list.
 * So every method of {@link Connection}, {@link Statement}, {@link PreparedStatement} and
 * {@link CallableStatement} (default ones included) is called by reflection, and whatever the
 * handle does not answer itself must reach the driver with the same arguments.
 */
class BranchConnectionTest {
    private static final String QUERY = "SELECT id FROM t";

    /** What the handle answers itself; every other Connection method passes through. */
    private static final Set<String> HANDLE_ANSWERS = Set.of("commit", "rollback()", "getAutoCommit", "setAutoCommit",
            "setReadOnly", "setTransactionIsolation", "close", "isClosed", "unwrap", "isWrapperFor");
    /** What a statement answers itself. */
    private static final Set<String> STATEMENT_ANSWERS = Set.of("getConnection", "unwrap", "isWrapperFor");

    private static final Map<Class<?>, Object> ZEROS = Map.of(boolean.class, false, int.class, 0, long.class, 0L,
            short.class, (short) 0, byte.class, (byte) 0, float.class, 0f, double.class, 0d);
    private static final Map<Class<?>, Object> ONES = Map.of(boolean.class, true, long.class, 1L,
            short.class, (short) 1, byte.class, (byte) 1, float.class, 1f, double.class, 1d);

    List<String> driverCalls;
    Connection driver;
    Branch branch;
    TxScope scope;
    Connection handle;

    @BeforeEach
    void setUp() {
        driverCalls = new ArrayList<>();
        driver = recording(Connection.class, "driver-connection");
        scope = new TxScope("g:1", true, Long.MAX_VALUE);
        branch = newBranch();
        handle = BranchConnection.create(branch, scope, driver);
    }

    private Branch newBranch() {
        String url = "jdbc:h2:mem:none";
        return new Branch(new TmXid("g:1", "b1"), new EnlistedResource("ordersDs", url, XaDialects.forUrl(url), null, null),
                driver, noXa(), false);
    }

    @Test
    void everyConnectionMethodTheHandleDoesNotAnswerReachesTheDriver() throws Exception {
        List<String> passed = new ArrayList<>();
        for (Method m : methodsOf(Connection.class)) {
            if (HANDLE_ANSWERS.contains(m.getName()) || HANDLE_ANSWERS.contains(key(m))) {
                continue;
            }
            driverCalls.clear();
            invoke(m, handle);
            assertThat(driverCalls).as(key(m)).containsExactly(call(m, arguments(m)));
            passed.add(key(m));
        }
        assertThat(passed).as("the default methods too").contains("beginRequest()", "endRequest()",
                "setShardingKey(ShardingKey)", "rollback(Savepoint)", "abort(Executor)", "nativeSQL(String)");
        assertThat(branch.isDirty()).as("getMetaData marked it, nothing else").isTrue();
        assertThat(scope.isRollbackOnly()).as("rollback(Savepoint) dooms nothing").isFalse();
    }

    @Test
    void theHandleKeepsTheTransactionsBoundaries() throws Exception {
        handle.commit();
        handle.setAutoCommit(true);
        handle.setReadOnly(true);
        handle.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
        assertThat(handle.getAutoCommit()).isFalse();
        assertThat(driverCalls).as("none of them reaches the driver").isEmpty();
        assertThat(scope.isRollbackOnly()).isFalse();

        handle.rollback();
        assertThat(driverCalls).isEmpty();
        assertThat(scope.rollbackOnlyReason()).contains("local rollback()", "'ordersDs'");
        assertThat(branch.execute(BranchCommand.PREPARE)).as("doomed: votes NO").isEqualTo(BranchAnswer.VOTE_NO);
    }

    @Test
    void closingClosesTheHandleOnlyAndEveryLaterCallFails() throws Exception {
        assertThat(handle.isClosed()).isFalse();
        handle.close();
        handle.close();
        assertThat(handle.isClosed()).isTrue();
        assertThat(handle.toString()).isEqualTo("BranchConnection[" + branch + ", closed]");
        assertThat(driverCalls).as("the driver's connection stays open").containsExactly("isClosed()");
        driverCalls.clear();
        for (Method m : methodsOf(Connection.class)) {
            if (Set.of("close", "isClosed", "unwrap", "isWrapperFor").contains(m.getName())) {
                continue;
            }
            assertThatThrownBy(() -> invoke(m, handle)).as(key(m))
                    .isInstanceOf(m.getName().equals("setClientInfo") ? SQLClientInfoException.class : SQLException.class)
                    .hasMessage("Connection is closed");
        }
        assertThat(handle.unwrap(Connection.class)).isSameAs(handle);
        assertThat(handle.isWrapperFor(Connection.class)).isTrue();
        assertThatThrownBy(() -> handle.isWrapperFor(Savepoint.class)).hasMessage("Connection is closed");
        assertThat(driverCalls).isEmpty();
    }

    @Test
    void everyStatementFactoryHandsOutAStatementOfItsKindWhoseConnectionIsTheHandle() throws Exception {
        for (Method factory : statementFactories()) {
            Statement s = (Statement) invoke(factory, handle);
            assertThat(s).as(key(factory)).isInstanceOf(factory.getReturnType()).isInstanceOf(BranchStatement.class);
            assertThat(s.getConnection()).as(key(factory)).isSameAs(handle);
            assertThat(s.unwrap(factory.getReturnType())).as("unwrapping to its own kind").isSameAs(s);
            assertThat(s.isWrapperFor(factory.getReturnType())).isTrue();
        }
        assertThat(handle.createStatement()).isNotInstanceOf(PreparedStatement.class);
        assertThat(handle.prepareStatement(QUERY)).isNotInstanceOf(CallableStatement.class);
        assertThat(branch.isDirty()).isFalse();
    }

    @Test
    void everyStatementMethodExceptItsConnectionAndUnwrappingReachesTheDriver() throws Exception {
        for (Statement s : List.of(handle.createStatement(), handle.prepareStatement(QUERY), handle.prepareCall("{call p()}"))) {
            Class<?> kind = s instanceof CallableStatement ? CallableStatement.class
                    : s instanceof PreparedStatement ? PreparedStatement.class : Statement.class;
            int passed = 0;
            for (Method m : methodsOf(kind)) {
                if (STATEMENT_ANSWERS.contains(m.getName())) {
                    continue;
                }
                driverCalls.clear();
                invoke(m, s);
                assertThat(driverCalls).as(kind.getSimpleName() + "." + key(m)).containsExactly(call(m, arguments(m)));
                passed++;
            }
            assertThat(passed).as(kind.getSimpleName()).isGreaterThan(40);
        }
    }

    @Test
    void whatMayWriteMarksTheBranchDirtyOneMethodAtATime() throws Exception {
        for (Method m : executeMethods(Statement.class)) {
            boolean writes = m.getName().contains("Update") || m.getName().contains("Batch");
            assertThat(dirtyAfter(c -> invoke(m, c.createStatement()))).as("Statement." + key(m) + " of a query").isEqualTo(writes);
            assertThat(dirtyAfter(c -> invoke(m, c.createStatement(), "DELETE FROM t"))).as("Statement." + key(m) + " of a delete").isTrue();
            assertThat(dirtyAfter(c -> invoke(m, c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_UPDATABLE))))
                    .as("updatable Statement." + key(m)).isTrue();
            assertThat(dirtyAfter(c -> invoke(m, c.prepareCall(QUERY)))).as("CallableStatement." + key(m)).isTrue();
        }
        for (Method m : executeMethods(PreparedStatement.class)) {
            boolean writes = m.getName().contains("Update") || m.getName().contains("Batch");
            assertThat(dirtyAfter(c -> invoke(m, c.prepareStatement(QUERY)))).as("PreparedStatement." + key(m) + " of a query").isEqualTo(writes);
            assertThat(dirtyAfter(c -> invoke(m, c.prepareStatement("UPDATE t SET id = 2")))).as("PreparedStatement." + key(m) + " of an update")
                    .isTrue();
            assertThat(dirtyAfter(c -> invoke(m, c.prepareStatement(QUERY, ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_UPDATABLE))))
                    .as("updatable PreparedStatement." + key(m)).isTrue();
            assertThat(dirtyAfter(c -> invoke(m, c.prepareCall(QUERY)))).as("CallableStatement." + key(m)).isTrue();
        }
        assertThat(dirtyAfter(c -> c.createStatement().addBatch("DELETE FROM t"))).as("adding to a batch runs nothing").isFalse();
        assertThat(dirtyAfter(c -> c.prepareStatement(QUERY).getResultSet())).isFalse();
    }

    @Test
    void waysOutOfTheTrackingMarkTheBranchDirty() throws Exception {
        assertThat(dirtyAfter(c -> c.unwrap(Connection.class))).as("its own kind: the handle itself").isFalse();
        assertThat(dirtyAfter(c -> c.unwrap(Savepoint.class))).as("anything else comes from the driver").isTrue();
        assertThat(dirtyAfter(Connection::getMetaData)).isTrue();
        assertThat(dirtyAfter(c -> c.isWrapperFor(Savepoint.class))).as("asking is harmless").isFalse();
        for (Method factory : statementFactories()) {
            assertThat(dirtyAfter(c -> ((Statement) invoke(factory, c)).unwrap(Savepoint.class))).as(key(factory) + " unwrapped").isTrue();
            assertThat(dirtyAfter(c -> ((Statement) invoke(factory, c)).unwrap(Statement.class))).as(key(factory) + " unwrapped to itself")
                    .isFalse();
        }
    }

    @Test
    void noStatementAfterTheCoordinatorRolledBackButTheHandleStillAnswers() throws Exception {
        branch.hold();
        assertThat(branch.execute(BranchCommand.ROLLBACK)).as("parked while in use").isEqualTo(BranchAnswer.NONE);
        for (Method factory : statementFactories()) {
            assertThatThrownBy(() -> invoke(factory, handle)).as(key(factory))
                    .isInstanceOf(GlobalRollbackException.class).hasMessageContaining("rolled back by the coordinator");
        }
        assertThatThrownBy(() -> handle.nativeSQL(QUERY)).isInstanceOf(GlobalRollbackException.class);
        assertThat(driverCalls).as("no statement was made").isEmpty();
        handle.getCatalog();
        assertThat(driverCalls).containsExactly("getCatalog()");
    }

    @Test
    void noStatementAfterTheDeadline() throws Exception {
        scope = new TxScope("g:1", true, System.nanoTime() - 1);
        handle = BranchConnection.create(branch, scope, driver);
        for (Method factory : statementFactories()) {
            assertThatThrownBy(() -> invoke(factory, handle)).as(key(factory))
                    .isInstanceOf(GlobalTimeoutException.class).hasMessageContaining("passed its deadline");
        }
        assertThatThrownBy(() -> handle.nativeSQL(QUERY)).isInstanceOf(GlobalTimeoutException.class);
        assertThat(driverCalls).isEmpty();
    }

    @Test
    void identityNotTheDriversEquality() throws Exception {
        Connection other = BranchConnection.create(branch, scope, driver);
        assertThat(handle).isEqualTo(handle).isNotEqualTo(other).isNotEqualTo(driver);
        assertThat(handle.hashCode()).isEqualTo(System.identityHashCode(handle));
        assertThat(handle.toString()).isEqualTo("BranchConnection[" + branch + "]");
        Statement s = handle.createStatement();
        assertThat(s).isEqualTo(s).isNotEqualTo(handle.createStatement());
        assertThat(s.hashCode()).isEqualTo(System.identityHashCode(s));
        driverCalls.clear();
        assertThat(s.toString()).as("the driver's toString, where drivers show the SQL").isEqualTo("driver-Statement");
        assertThat(driverCalls).containsExactly("toString()");
    }

    // ---- helpers ----

    interface Work {
        void run(Connection c) throws Exception;
    }

    /** Whether {@code work} on a fresh branch's handle marked it dirty. */
    private boolean dirtyAfter(Work work) throws Exception {
        Branch b = newBranch();
        work.run(BranchConnection.create(b, scope, driver));
        return b.isDirty();
    }

    private static List<Method> executeMethods(Class<?> kind) {
        return Arrays.stream(kind.getDeclaredMethods()).filter(m -> m.getName().startsWith("execute"))
                .filter(m -> !Modifier.isStatic(m.getModifiers())).sorted(Comparator.comparing(BranchConnectionTest::key)).toList();
    }

    private static List<Method> statementFactories() {
        List<Method> factories = methodsOf(Connection.class).stream()
                .filter(m -> Statement.class.isAssignableFrom(m.getReturnType())).toList();
        assertThat(factories).hasSize(12); // 3 createStatement, 6 prepareStatement, 3 prepareCall
        return factories;
    }

    private static List<Method> methodsOf(Class<?> kind) {
        return Stream.of(kind.getMethods()).filter(m -> !Modifier.isStatic(m.getModifiers()))
                .sorted(Comparator.comparing(BranchConnectionTest::key)).toList();
    }

    private static Object invoke(Method m, Object target) throws Exception {
        return invoke(m, target, QUERY);
    }

    /** Calls {@code m} with a made-up argument per parameter ({@code sql} for the first String). */
    private static Object invoke(Method m, Object target, String sql) throws Exception {
        try {
            return m.invoke(target, arguments(m, sql));
        } catch (InvocationTargetException e) {
            throw (Exception) e.getCause();
        }
    }

    private static Object[] arguments(Method m) {
        return arguments(m, QUERY);
    }

    private static Object[] arguments(Method m, String sql) {
        Class<?>[] types = m.getParameterTypes();
        Object[] args = new Object[types.length];
        for (int i = 0; i < types.length; i++) {
            Class<?> t = types[i];
            if (t == int.class) {
                args[i] = i + 1; // distinct values, so a swapped argument shows
            } else if (t == String.class) {
                args[i] = i == 0 ? sql : "name" + i;
            } else if (t == Class.class) {
                args[i] = Savepoint.class;
            } else if (t == Map.class) {
                args[i] = Map.of();
            } else if (t == Properties.class) {
                args[i] = new Properties();
            } else {
                args[i] = ONES.get(t); // null for any other object
            }
        }
        return args;
    }

    private static String key(Method m) {
        return m.getName() + "(" + String.join(",", Stream.of(m.getParameterTypes()).map(Class::getSimpleName).toList()) + ")";
    }

    /** How the recording driver writes down a call. */
    private static String call(Method m, Object[] args) {
        return key(m) + (args == null || args.length == 0 ? "" : Arrays.deepToString(args));
    }

    /** XA calls of the branch's own (a vote NO rolls back): not what this test is about. */
    private XAResource noXa() {
        return (XAResource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {XAResource.class},
                (proxy, m, args) -> ZEROS.get(m.getReturnType()));
    }

    /** A stand-in for the driver's object: records each call; statement factories hand out recording statements. */
    private <T> T recording(Class<T> kind, String name) {
        return kind.cast(Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {kind}, (proxy, m, args) -> {
            driverCalls.add(call(m, args));
            Class<?> r = m.getReturnType();
            if (m.getName().equals("toString")) {
                return name;
            }
            if (Statement.class.isAssignableFrom(r)) {
                return recording(r, "driver-" + r.getSimpleName());
            }
            return ZEROS.get(r);
        }));
    }
}
