package dev.xatm.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The sample order service: orders and inventory spread over two shard databases, one order placed
 * as one global transaction across both. Everything xatm-specific is the starter's
 * {@code @GlobalTransactional} on {@link dev.xatm.sample.order.PlaceOrder#place} and the
 * {@code tm.client.*} properties.
 */
@SpringBootApplication
public class SampleOrderServiceApplication {
    public static void main(String[] args) {
        SpringApplication.run(SampleOrderServiceApplication.class, args);
    }
}
