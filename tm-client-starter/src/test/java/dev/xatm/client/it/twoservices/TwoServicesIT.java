package dev.xatm.client.it.twoservices;

import dev.xatm.client.it.twoservices.coordinator.CoordinatorApplication;
import dev.xatm.client.it.twoservices.inventory.InventoryApplication;
import dev.xatm.client.it.twoservices.orders.OrdersApplication;
import dev.xatm.client.it.twoservices.orders.PlaceOrder;
import dev.xatm.protocol.TmXid;
import dev.xatm.coordinator.transport.GrpcServer;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.client.HttpClientErrorException;

import javax.sql.XAConnection;
import javax.transaction.xa.XAResource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The two-service example of docs/two-services.md, as written there: the orders service
 * ({@code @GlobalTransactional}, a RestClient from Spring Boot's builder) calls the inventory
 * service (the starter alone), each on its own database, each with the documented properties
 * (src/test/resources/two-services/). A commit reaches both databases; a failure in the inventory
 * service, or in the orders service after its call, leaves both unchanged. The databases are two H2
 * files and the coordinator is tm-server's, in this JVM, so nothing outside the test is needed.
 * After every test nothing is left prepared on either database.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoServicesIT {
    static final String TOKEN = "change-me-please-0123";

    @TempDir
    static Path tmp;
    final List<ConfigurableApplicationContext> apps = new ArrayList<>();
    JdbcTemplate ordersDb;
    JdbcTemplate inventoryDb;
    JdbcDataSource ordersFile;
    JdbcDataSource inventoryFile;
    PlaceOrder placeOrder;

    @BeforeAll
    void start() {
        ordersFile = h2("orders");
        inventoryFile = h2("inventory");
        ordersDb = new JdbcTemplate(ordersFile);
        inventoryDb = new JdbcTemplate(inventoryFile);
        ordersDb.execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, sku VARCHAR(40), quantity INT)");
        inventoryDb.execute("CREATE TABLE reservations (order_id BIGINT PRIMARY KEY, sku VARCHAR(40), quantity INT)");
        inventoryDb.execute("CREATE TABLE stock (sku VARCHAR(40) PRIMARY KEY, available INT)");
        inventoryDb.update("INSERT INTO stock VALUES ('apple', 10)");

        ConfigurableApplicationContext coordinator = run(new SpringApplicationBuilder(CoordinatorApplication.class).web(WebApplicationType.NONE),
                "--spring.application.name=coordinator", "--tm.client.mode=embedded", "--tm.client.embedded.listen=true",
                "--tm.server.port=0", "--tm.server.auth-token=" + TOKEN, "--tm.server.file.dir=" + tmp.resolve("tm-data"));
        String serverAddress = "--tm.client.server-address=127.0.0.1:" + coordinator.getBean(GrpcServer.class).port();

        ConfigurableApplicationContext inventory = run(new SpringApplicationBuilder(InventoryApplication.class),
                "--spring.config.location=classpath:two-services/inventory.properties", serverAddress, "--server.port=0",
                "--spring.datasource.url=" + ordersFile.getURL().replace("orders", "inventory"), "--spring.datasource.username=sa",
                "--spring.datasource.password=");
        String inventoryUrl = "http://127.0.0.1:" + inventory.getEnvironment().getRequiredProperty("local.server.port");

        ConfigurableApplicationContext orders = run(new SpringApplicationBuilder(OrdersApplication.class),
                "--spring.config.location=classpath:two-services/orders.properties", serverAddress, "--server.port=0",
                "--spring.datasource.url=" + ordersFile.getURL(), "--spring.datasource.username=sa", "--spring.datasource.password=",
                "--inventory.url=" + inventoryUrl);
        placeOrder = orders.getBean(PlaceOrder.class);
    }

    @AfterEach
    void nothingPrepared() {
        await("nothing in doubt on either database").atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(prepared(ordersFile)).isEmpty();
            assertThat(prepared(inventoryFile)).isEmpty();
        });
    }

    @AfterAll
    void stop() {
        // callers first, the coordinator last
        for (int i = apps.size() - 1; i >= 0; i--) {
            apps.get(i).close();
        }
    }

    @Test
    void anOrderCommitsInBothServicesDatabases() {
        int before = available("apple");
        placeOrder.place(1, "apple", 2);
        assertThat(ordersDb.queryForObject("SELECT quantity FROM orders WHERE id = 1", Integer.class)).isEqualTo(2);
        assertThat(inventoryDb.queryForObject("SELECT quantity FROM reservations WHERE order_id = 1", Integer.class)).isEqualTo(2);
        assertThat(available("apple")).isEqualTo(before - 2);
    }

    /** The inventory service wrote its reservation, then refused (409): the order is not written, the reservation is gone. */
    @Test
    void aFailureInTheCalledServiceRollsBackBoth() {
        int before = available("apple");
        assertThatThrownBy(() -> placeOrder.place(2, "apple", before + 1)).isInstanceOf(HttpClientErrorException.Conflict.class);
        assertThat(count(ordersDb, "orders", "id", 2)).isZero();
        assertThat(count(inventoryDb, "reservations", "order_id", 2)).isZero();
        assertThat(available("apple")).isEqualTo(before);
    }

    /**
     * The inventory service committed nothing on its own: the caller failed after the call returned 201
     * (an order id already taken), and the reservation and the stock change were rolled back with it.
     */
    @Test
    void aFailureInTheCallerAfterTheCallRollsBackTheCalledServicesWrites() {
        ordersDb.update("INSERT INTO orders VALUES (3, 'pear', 1)");
        int before = available("apple");
        assertThatThrownBy(() -> placeOrder.place(3, "apple", 1)).isInstanceOf(DuplicateKeyException.class);
        assertThat(ordersDb.queryForObject("SELECT sku FROM orders WHERE id = 3", String.class)).isEqualTo("pear");
        assertThat(count(inventoryDb, "reservations", "order_id", 3)).isZero();
        assertThat(available("apple")).isEqualTo(before);
    }

    private ConfigurableApplicationContext run(SpringApplicationBuilder builder, String... args) {
        ConfigurableApplicationContext app = builder.run(args);
        apps.add(app);
        return app;
    }

    private int available(String sku) {
        return inventoryDb.queryForObject("SELECT available FROM stock WHERE sku = ?", Integer.class, sku);
    }

    private static int count(JdbcTemplate db, String table, String column, long id) {
        return db.queryForObject("SELECT COUNT(*) FROM " + table + " WHERE " + column + " = ?", Integer.class, id);
    }

    private static JdbcDataSource h2(String name) {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:file:" + tmp.resolve(name).toAbsolutePath());
        ds.setUser("sa");
        return ds;
    }

    /** Our prepared branches on one database, as XA RECOVER lists them. */
    private static List<TmXid> prepared(JdbcDataSource ds) throws Exception {
        List<TmXid> out = new ArrayList<>();
        XAConnection xc = ds.getXAConnection();
        try {
            for (var x : xc.getXAResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)) {
                TmXid.parse(x).ifPresent(out::add);
            }
        } finally {
            xc.close();
        }
        return out;
    }
}
