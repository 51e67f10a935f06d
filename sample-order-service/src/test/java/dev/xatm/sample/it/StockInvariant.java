package dev.xatm.sample.it;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample's business invariant, checked against both shards read directly: every product's
 * initial stock equals its remaining stock plus what its orders took, every 201 is an order row with
 * what was asked, no rolled-back or rejected order left a row, and the rows nobody was told about
 * come only from requests whose outcome the caller could not know.
 */
final class StockInvariant {
    private StockInvariant() {}

    static void assertConsistent(String label, List<OrderLoad.Result> results, ShardContents state, int products, int initialStock) {
        Map<OrderLoad.Kind, Long> kinds = results.stream().collect(Collectors.groupingBy(OrderLoad.Result::kind, Collectors.counting()));
        System.out.println("[sample e2e] " + label + ": " + results.size() + " answers " + kinds + ", "
                + state.orders().size() + " order rows, stock " + new java.util.TreeMap<>(state.stock()));
        assertThat(count(results, OrderLoad.Kind.CREATED)).as("some orders committed").isPositive();
        assertThat(results).as("some orders were over stock")
                .anyMatch(r -> r.kind() == OrderLoad.Kind.REJECTED && r.quantity() == OrderLoad.TOO_MANY);
        assertThat(results).as("no request was refused as invalid").noneMatch(r -> r.status() == 400);

        // where each row lives
        for (ShardContents.Order o : state.orders().values()) {
            assertThat(o.shard()).as("order " + o.id() + " lives on its user's shard").isEqualTo(Math.floorMod(o.userId(), 2));
            assertThat(Math.floorMod(o.id(), 2)).as("order id " + o.id() + " names its shard").isEqualTo(o.shard());
        }

        // the stock invariant, per product, over both shards
        assertThat(state.stock().keySet()).as("products").containsExactlyInAnyOrderElementsOf(
                java.util.stream.LongStream.rangeClosed(1, products).boxed().toList());
        Map<Long, Integer> ordered = state.orders().values().stream()
                .collect(Collectors.groupingBy(ShardContents.Order::productId, Collectors.summingInt(ShardContents.Order::quantity)));
        for (long p = 1; p <= products; p++) {
            assertThat(state.stock().get(p) + ordered.getOrDefault(p, 0))
                    .as("product %d: initial stock = remaining %d + ordered %d", p, state.stock().get(p), ordered.getOrDefault(p, 0))
                    .isEqualTo(initialStock);
            assertThat(state.stock().get(p)).as("stock of product " + p).isNotNegative();
        }

        // every answer agrees with the databases
        Set<Long> unknownIds = new HashSet<>();
        int unknownWithoutId = 0;
        for (OrderLoad.Result r : results) {
            switch (r.kind()) {
                case CREATED -> {
                    ShardContents.Order row = state.orders().get(r.orderId());
                    assertThat(row).as("committed order " + r.orderId() + " (" + r.body() + ")").isNotNull();
                    assertThat(row.productId()).isEqualTo(r.productId());
                    assertThat(row.quantity()).isEqualTo(r.quantity());
                    assertThat(row.userId()).isEqualTo(r.userId());
                }
                case NOT_SENT -> {
                    // never reached the service
                }
                case REJECTED, ROLLED_BACK -> {
                    if (r.orderId() != null) {
                        assertThat(state.orders()).as("rolled-back order " + r.orderId() + " (" + r.body() + ")")
                                .doesNotContainKey(r.orderId());
                    }
                }
                case UNKNOWN -> {
                    if (r.orderId() != null) {
                        unknownIds.add(r.orderId());
                    } else {
                        unknownWithoutId++;
                    }
                }
            }
        }
        Set<Long> createdIds = results.stream().filter(r -> r.kind() == OrderLoad.Kind.CREATED).map(OrderLoad.Result::orderId)
                .collect(Collectors.toSet());
        List<Long> unexplained = state.orders().keySet().stream()
                .filter(id -> !createdIds.contains(id) && !unknownIds.contains(id)).toList();
        assertThat(unexplained.size())
                .as("order rows without a 201 must come from requests whose outcome the caller could not know: " + unexplained)
                .isLessThanOrEqualTo(unknownWithoutId);
    }

    private static int count(List<OrderLoad.Result> results, OrderLoad.Kind kind) {
        return (int) results.stream().filter(r -> r.kind() == kind).count();
    }
}
