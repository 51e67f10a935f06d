package dev.xatm.sample.shard;

import java.util.List;

/**
 * The sample's routing rules in one place: orders live on the shard of {@code userId % 2},
 * inventory on the shard of {@code productId % 2}, and an order id names its own shard (its
 * lowest bit, see {@link OrderIds}).
 */
public final class Shards {
    public static final int COUNT = 2;

    private final List<Shard> shards;

    Shards(List<Shard> shards) {
        if (shards.size() != COUNT) {
            throw new IllegalArgumentException("expected " + COUNT + " shards, got " + shards.size());
        }
        this.shards = List.copyOf(shards);
    }

    public Shard forUser(long userId) {
        return shards.get(Math.floorMod(userId, COUNT));
    }

    public Shard forProduct(long productId) {
        return shards.get(Math.floorMod(productId, COUNT));
    }

    public Shard forOrderId(long orderId) {
        return shards.get(Math.floorMod(orderId, COUNT));
    }

    public List<Shard> all() {
        return shards;
    }
}
