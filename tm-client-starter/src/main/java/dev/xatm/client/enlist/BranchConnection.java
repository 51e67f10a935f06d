package dev.xatm.client.enlist;

import dev.xatm.client.context.TxScope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Array;
import java.sql.Blob;
import java.sql.CallableStatement;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.NClob;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.SQLXML;
import java.sql.Savepoint;
import java.sql.ShardingKey;
import java.sql.Statement;
import java.sql.Struct;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

/**
 * What business code gets from an enlisted data source inside a global transaction: a handle on the
 * branch's pooled connection that keeps the transaction's boundaries out of the business code's
 * hands.
 *
 * <ul>
 *   <li>{@code commit()} does nothing: the coordinator commits;</li>
 *   <li>{@code rollback()} dooms the global transaction: the branch votes NO, the initiator rolls
 *       back (a single branch cannot be partly rolled back);</li>
 *   <li>{@code close()} closes this handle only; the connection stays with the branch until the
 *       global transaction ends;</li>
 *   <li>auto-commit reads as false and cannot be changed, and read-only / isolation changes are
 *       ignored: inside an XA branch the transaction already runs (pgjdbc refuses them mid-transaction);</li>
 *   <li>a statement after the deadline, or after the coordinator rolled the transaction back, fails;</li>
 *   <li>whatever could write marks the branch dirty, before it runs (HikariCP's ProxyConnection keeps
 *       its commit-state dirty bit the same way): an update, a batch, a call, a statement whose text
 *       is not a plain query ({@link SqlText}), any statement of an updatable result set, and any way
 *       out of our tracking ({@code unwrap} to the driver's connection or statement,
 *       {@code getMetaData}, whose {@code getConnection()} is the raw connection). A branch never
 *       marked dirty votes READ_ONLY at prepare time.</li>
 * </ul>
 *
 * Every other method passes through to the driver's connection, once this handle is open: after
 * {@code close()} only {@code close}, {@code isClosed}, {@code unwrap}/{@code isWrapperFor} of this
 * handle's own types and the {@code Object} methods answer. Statements are wrapped too
 * ({@link BranchStatement}), so {@code getConnection()} on them returns this handle. Equality is
 * identity. Not thread-safe, like any JDBC connection. Not tracked: a write through
 * {@code ResultSet.getStatement()}, which hands out the driver's statement (PostgreSQL's own check at
 * prepare time covers it there).
 *
 * <p>A plain class rather than a JDK proxy: this handle sits under every statement of the
 * application, and a proxy costs a reflective call, an argument array and a switch on the method's
 * name each time.
 */
final class BranchConnection implements Connection {
    private static final Logger log = LoggerFactory.getLogger(BranchConnection.class);

    private final Branch branch;
    private final TxScope scope;
    private final Connection target;
    private boolean closed;

    private BranchConnection(Branch branch, TxScope scope, Connection target) {
        this.branch = branch;
        this.scope = scope;
        this.target = target;
    }

    static Connection create(Branch branch, TxScope scope, Connection target) {
        return new BranchConnection(branch, scope, target);
    }

    /** The driver's connection, for any call this handle lets through: none once the handle is closed. */
    private Connection open() throws SQLException {
        if (closed) {
            throw new SQLException("Connection is closed");
        }
        return target;
    }

    /** Before a statement is made: none after the deadline or once the branch cannot take more work. */
    private Connection openForStatements() throws SQLException {
        Connection c = open();
        if (scope.pastDeadline()) {
            throw Enlistment.timedOut(scope);
        }
        branch.checkUsable();
        return c;
    }

    // ---- the transaction's boundaries stay with the coordinator ----

    @Override
    public void commit() throws SQLException {
        open(); // the coordinator commits
    }

    @Override
    public void rollback() throws SQLException {
        open();
        String why = "a local rollback() ran on the branch connection of data source '" + branch.resource().beanName() + "'";
        branch.doom(why);
        scope.setRollbackOnly(why);
    }

    @Override
    public void rollback(Savepoint savepoint) throws SQLException {
        open().rollback(savepoint); // fine inside a branch: it undoes part of this branch's own work
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        open();
        return false;
    }

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        open();
        ignored("setAutoCommit", autoCommit);
    }

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        open();
        ignored("setReadOnly", readOnly);
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        open();
        ignored("setTransactionIsolation", level);
    }

    private void ignored(String method, Object value) {
        if (log.isTraceEnabled()) {
            log.trace("{}({}) ignored inside XA branch {}", method, value, branch);
        }
    }

    // ---- this handle's own life ----

    @Override
    public void close() {
        closed = true; // the connection stays with the branch until the global transaction ends
    }

    @Override
    public boolean isClosed() throws SQLException {
        return closed || target.isClosed();
    }

    @Override
    public String toString() {
        return "BranchConnection[" + branch + (closed ? ", closed" : "") + "]";
    }

    // ---- ways out of our tracking mark the branch dirty ----

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        branch.markDirty(); // the caller gets the driver's connection: we no longer see what it runs
        return open().unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || open().isWrapperFor(iface);
    }

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        Connection c = open();
        branch.markDirty(); // DatabaseMetaData.getConnection() is the raw connection
        return c.getMetaData();
    }

    // ---- statements: checked before they are made, tracked while they run ----

    @Override
    public Statement createStatement() throws SQLException {
        return new BranchStatement(branch, this, openForStatements().createStatement(), null, false);
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency) throws SQLException {
        return new BranchStatement(branch, this, openForStatements().createStatement(resultSetType, resultSetConcurrency),
                null, updatable(resultSetConcurrency));
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency, int resultSetHoldability) throws SQLException {
        return new BranchStatement(branch, this,
                openForStatements().createStatement(resultSetType, resultSetConcurrency, resultSetHoldability),
                null, updatable(resultSetConcurrency));
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        return new BranchPreparedStatement(branch, this, openForStatements().prepareStatement(sql), sql, false);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency) throws SQLException {
        return new BranchPreparedStatement(branch, this,
                openForStatements().prepareStatement(sql, resultSetType, resultSetConcurrency), sql, updatable(resultSetConcurrency));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency, int resultSetHoldability)
            throws SQLException {
        return new BranchPreparedStatement(branch, this,
                openForStatements().prepareStatement(sql, resultSetType, resultSetConcurrency, resultSetHoldability),
                sql, updatable(resultSetConcurrency));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        return new BranchPreparedStatement(branch, this, openForStatements().prepareStatement(sql, autoGeneratedKeys), sql, false);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        return new BranchPreparedStatement(branch, this, openForStatements().prepareStatement(sql, columnIndexes), sql, false);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        return new BranchPreparedStatement(branch, this, openForStatements().prepareStatement(sql, columnNames), sql, false);
    }

    @Override
    public CallableStatement prepareCall(String sql) throws SQLException {
        return new BranchCallableStatement(branch, this, openForStatements().prepareCall(sql), sql);
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency) throws SQLException {
        return new BranchCallableStatement(branch, this, openForStatements().prepareCall(sql, resultSetType, resultSetConcurrency), sql);
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency, int resultSetHoldability)
            throws SQLException {
        return new BranchCallableStatement(branch, this,
                openForStatements().prepareCall(sql, resultSetType, resultSetConcurrency, resultSetHoldability), sql);
    }

    @Override
    public String nativeSQL(String sql) throws SQLException {
        return openForStatements().nativeSQL(sql);
    }

    private static boolean updatable(int resultSetConcurrency) {
        return resultSetConcurrency == ResultSet.CONCUR_UPDATABLE;
    }

    // ---- everything else passes through, while the handle is open ----

    @Override
    public boolean isReadOnly() throws SQLException {
        return open().isReadOnly();
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        return open().getTransactionIsolation();
    }

    @Override
    public void setCatalog(String catalog) throws SQLException {
        open().setCatalog(catalog);
    }

    @Override
    public String getCatalog() throws SQLException {
        return open().getCatalog();
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        open().setSchema(schema);
    }

    @Override
    public String getSchema() throws SQLException {
        return open().getSchema();
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        return open().getWarnings();
    }

    @Override
    public void clearWarnings() throws SQLException {
        open().clearWarnings();
    }

    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        return open().getTypeMap();
    }

    @Override
    public void setTypeMap(Map<String, Class<?>> map) throws SQLException {
        open().setTypeMap(map);
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        open().setHoldability(holdability);
    }

    @Override
    public int getHoldability() throws SQLException {
        return open().getHoldability();
    }

    @Override
    public Savepoint setSavepoint() throws SQLException {
        return open().setSavepoint();
    }

    @Override
    public Savepoint setSavepoint(String name) throws SQLException {
        return open().setSavepoint(name);
    }

    @Override
    public void releaseSavepoint(Savepoint savepoint) throws SQLException {
        open().releaseSavepoint(savepoint);
    }

    @Override
    public Clob createClob() throws SQLException {
        return open().createClob();
    }

    @Override
    public Blob createBlob() throws SQLException {
        return open().createBlob();
    }

    @Override
    public NClob createNClob() throws SQLException {
        return open().createNClob();
    }

    @Override
    public SQLXML createSQLXML() throws SQLException {
        return open().createSQLXML();
    }

    @Override
    public Array createArrayOf(String typeName, Object[] elements) throws SQLException {
        return open().createArrayOf(typeName, elements);
    }

    @Override
    public Struct createStruct(String typeName, Object[] attributes) throws SQLException {
        return open().createStruct(typeName, attributes);
    }

    @Override
    public boolean isValid(int timeout) throws SQLException {
        return open().isValid(timeout);
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        openForClientInfo().setClientInfo(name, value);
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        openForClientInfo().setClientInfo(properties);
    }

    /** {@link #open()} for the two methods that may only throw {@link SQLClientInfoException}. */
    private Connection openForClientInfo() throws SQLClientInfoException {
        if (closed) {
            throw new SQLClientInfoException("Connection is closed", Map.of());
        }
        return target;
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        return open().getClientInfo(name);
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        return open().getClientInfo();
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        open().abort(executor);
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        open().setNetworkTimeout(executor, milliseconds);
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        return open().getNetworkTimeout();
    }

    @Override
    public void beginRequest() throws SQLException {
        open().beginRequest();
    }

    @Override
    public void endRequest() throws SQLException {
        open().endRequest();
    }

    @Override
    public boolean setShardingKeyIfValid(ShardingKey shardingKey, ShardingKey superShardingKey, int timeout) throws SQLException {
        return open().setShardingKeyIfValid(shardingKey, superShardingKey, timeout);
    }

    @Override
    public boolean setShardingKeyIfValid(ShardingKey shardingKey, int timeout) throws SQLException {
        return open().setShardingKeyIfValid(shardingKey, timeout);
    }

    @Override
    public void setShardingKey(ShardingKey shardingKey, ShardingKey superShardingKey) throws SQLException {
        open().setShardingKey(shardingKey, superShardingKey);
    }

    @Override
    public void setShardingKey(ShardingKey shardingKey) throws SQLException {
        open().setShardingKey(shardingKey);
    }
}
