package dev.xatm.sample.order;

import dev.xatm.client.GlobalRollbackException;
import dev.xatm.client.GlobalTimeoutException;
import dev.xatm.client.TmException;
import dev.xatm.sample.shard.OrderIds;
import dev.xatm.sample.shard.Shards;
import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

import java.net.URI;

/** {@code POST /orders}, {@code GET /orders/{id}}, {@code GET /inventory/{productId}}. */
@RestController
class OrderController {
    private final PlaceOrder placeOrder;
    private final OrderIds ids;
    private final Shards shards;
    private final OrderStore store;

    OrderController(PlaceOrder placeOrder, OrderIds ids, Shards shards, OrderStore store) {
        this.placeOrder = placeOrder;
        this.ids = ids;
        this.shards = shards;
        this.store = store;
    }

    @PostMapping("/orders")
    ResponseEntity<OrderPlaced> place(@RequestBody(required = false) OrderRequest request) {
        if (request == null) {
            throw new InvalidOrderException("a JSON body is required: " + OrderRequest.EXAMPLE);
        }
        request.validate();
        // taken before the global transaction begins, in its own local one (see OrderIds)
        long orderId = ids.nextFor(request.userId());
        Attempt attempt = new Attempt();
        OrderPlaced placed;
        try {
            placed = placeOrder.place(orderId, request, attempt);
        } catch (GlobalRollbackException | GlobalTimeoutException e) {
            throw new OrderNotPlacedException(orderId, attempt.xid, OrderNotPlacedException.Outcome.ROLLED_BACK, e);
        } catch (TmException | DataAccessException e) {
            // Failed before or while the method ran: commit was never asked, so the coordinator
            // never commits it (presumed abort). Failed while committing (the coordinator became
            // unreachable, say): the outcome is the coordinator's to decide.
            var outcome = attempt.bodyFinished ? OrderNotPlacedException.Outcome.UNKNOWN : OrderNotPlacedException.Outcome.ROLLED_BACK;
            throw new OrderNotPlacedException(orderId, attempt.xid, outcome, e);
        }
        return ResponseEntity.created(URI.create("/orders/" + orderId)).body(placed);
    }

    @GetMapping("/orders/{id}")
    OrderView order(@PathVariable("id") long id) {
        return store.order(shards.forOrderId(id), id)
                .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no order " + id));
    }

    @GetMapping("/inventory/{productId}")
    StockView stock(@PathVariable("productId") long productId) {
        var shard = shards.forProduct(productId);
        return store.stock(shard, productId)
                .map(stock -> new StockView(productId, stock, shard.index()))
                .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no product " + productId));
    }
}
