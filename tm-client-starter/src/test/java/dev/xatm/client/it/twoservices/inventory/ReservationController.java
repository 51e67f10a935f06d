package dev.xatm.client.it.twoservices.inventory;

import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/**
 * {@code POST /reservations}: records the reservation and takes the stock. Nothing xatm-specific:
 * called with a TM-XID header, the starter's servlet filter runs the request inside the caller's
 * global transaction, so these writes commit or roll back with the caller's.
 */
@RestController
class ReservationController {
    private final JdbcTemplate inventory;

    ReservationController(JdbcTemplate inventory) {
        this.inventory = inventory;
    }

    @PostMapping("/reservations")
    @ResponseStatus(HttpStatus.CREATED)
    void reserve(@RequestParam long orderId, @RequestParam String sku, @RequestParam int quantity) {
        inventory.update("INSERT INTO reservations (order_id, sku, quantity) VALUES (?, ?, ?)", orderId, sku, quantity);
        int taken = inventory.update("UPDATE stock SET available = available - ? WHERE sku = ? AND available >= ?", quantity, sku, quantity);
        if (taken == 0) {
            // the reservation row above is already written: the caller's rollback removes it
            throw new ResponseStatusException(HttpStatus.CONFLICT, "not enough " + sku);
        }
    }
}
