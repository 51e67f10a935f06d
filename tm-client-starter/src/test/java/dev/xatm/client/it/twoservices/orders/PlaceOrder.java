package dev.xatm.client.it.twoservices.orders;

import dev.xatm.client.GlobalTransactional;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.web.client.RestClient;

/**
 * One order, atomically across two services: the inventory service reserves the stock in its
 * database, then this service writes the order in its own. Both commit, or neither does.
 */
@Service
public class PlaceOrder {
    private final JdbcTemplate orders;
    private final RestClient inventory;

    // RestClient.Builder is Spring Boot's (spring-boot-starter-restclient): the starter has added the
    // TM-XID header to it, which is what makes the inventory service join this transaction
    public PlaceOrder(JdbcTemplate orders, RestClient.Builder http, @Value("${inventory.url}") String inventoryUrl) {
        this.orders = orders;
        this.inventory = http.baseUrl(inventoryUrl).build();
    }

    @GlobalTransactional(name = "place-order")
    public void place(long orderId, String sku, int quantity) {
        // a 4xx or 5xx answer throws, and the exception rolls back both services' writes
        inventory.post().uri("/reservations?orderId={o}&sku={s}&quantity={q}", orderId, sku, quantity)
                .retrieve().toBodilessEntity();
        // a failure here (a duplicate order id, say) rolls back the reservation too
        orders.update("INSERT INTO orders (id, sku, quantity) VALUES (?, ?, ?)", orderId, sku, quantity);
    }
}
