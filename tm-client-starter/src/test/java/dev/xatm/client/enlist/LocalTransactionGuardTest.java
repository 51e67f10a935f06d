package dev.xatm.client.enlist;

import dev.xatm.client.GlobalTransactionDefinition;
import dev.xatm.client.TmUsageException;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.datasource.LazyConnectionDataSourceProxy;
import org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import javax.sql.DataSource;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Which thread bindings make {@link LocalTransactionGuard} refuse a new global transaction: a
 * resource bound under an enlisted data source (the starter's wrapper, the pool behind it, or either
 * behind spring-jdbc proxies); not one of a data source that cannot enlist, nor of any other key.
 * The bound values are placeholders: only the keys matter, as they do to spring-jdbc.
 */
class LocalTransactionGuardTest {
    final GlobalTransactionDefinition def = GlobalTransactionDefinition.DEFAULT.withName("place-order");
    final DataSource ordersPool = h2("orders");
    final EnlistedResource orders = new EnlistedResource("ordersDs", "jdbc:h2:mem:orders", XaDialects.forUrl("jdbc:h2:mem:orders"),
            ordersPool, null);
    final DataSource legacyPool = h2("legacy");
    final EnlistedResource legacy = new EnlistedResource("legacyDs", "jdbc:sqlite:legacy.db", null, legacyPool, null);
    final EnlistingDataSource ordersBean = new EnlistingDataSource(orders, null);
    final LocalTransactionGuard guard = new LocalTransactionGuard(() -> List.of(orders, legacy));

    @AfterEach
    void unbindAll() {
        List.copyOf(TransactionSynchronizationManager.getResourceMap().keySet()).forEach(TransactionSynchronizationManager::unbindResource);
    }

    @Test
    void nothingBoundLetsItBegin() {
        assertThatCode(() -> guard.checkBeforeBegin(def)).doesNotThrowAnyException();
    }

    @Test
    void aConnectionBoundUnderTheDataSourceBeanIsRefusedByName() {
        TransactionSynchronizationManager.bindResource(ordersBean, "connection holder");
        assertThatThrownBy(() -> guard.checkBeforeBegin(def)).isInstanceOf(TmUsageException.class)
                .hasMessageContaining("'place-order' cannot begin")
                .hasMessageContaining("DataSource 'ordersDs' (h2:mem:orders)")
                .hasMessageContaining("Put @Transactional inside @GlobalTransactional");
    }

    @Test
    void aConnectionBoundUnderThePoolBehindTheBeanIsRefused() {
        TransactionSynchronizationManager.bindResource(ordersPool, "connection holder");
        assertThatThrownBy(() -> guard.checkBeforeBegin(def)).hasMessageContaining("DataSource 'ordersDs'");
    }

    @Test
    void aConnectionBoundUnderASpringProxyOfTheBeanIsRefused() {
        TransactionSynchronizationManager.bindResource(new LazyConnectionDataSourceProxy(new TransactionAwareDataSourceProxy(ordersBean)),
                "connection holder");
        assertThatThrownBy(() -> guard.checkBeforeBegin(def)).hasMessageContaining("DataSource 'ordersDs'");
    }

    @Test
    void aDataSourceThatCannotEnlistAndUnrelatedKeysLetItBegin() {
        TransactionSynchronizationManager.bindResource(legacyPool, "connection holder");
        TransactionSynchronizationManager.bindResource(h2("elsewhere"), "connection holder");
        TransactionSynchronizationManager.bindResource("an EntityManagerFactory, say", "entity manager holder");
        assertThatCode(() -> guard.checkBeforeBegin(def)).doesNotThrowAnyException();
    }

    private static DataSource h2(String name) {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:" + name);
        return ds;
    }
}
