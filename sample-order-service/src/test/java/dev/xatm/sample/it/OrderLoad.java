package dev.xatm.sample.it;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Concurrent POST /orders from a few threads, each with its own seeded Random, until told to stop
 * or a bound on attempts is reached. Every answer is classified by what it lets the caller conclude
 * about the database, which is what the tests check afterwards.
 */
final class OrderLoad {
    /** Quantity of the deliberate over-stock orders; far above any product's initial stock. */
    static final int TOO_MANY = 100_000;

    enum Kind {
        /** 201: committed. */
        CREATED,
        /** 409 out of stock, 404 unknown product: rolled back, nothing written. */
        REJECTED,
        /** 503 rolled_back: the global transaction was rolled back (or never began), nothing written. */
        ROLLED_BACK,
        /** Connection refused (the service is down): the request never arrived, nothing written. */
        NOT_SENT,
        /** 503 outcome_unknown, a broken connection, a timeout, a 500: the order may or may not exist. */
        UNKNOWN
    }

    /**
     * One attempt; {@code orderId} and {@code xid} (the gtrid) are null when the answer did not carry
     * them (e.g. the connection broke). {@code answeredNanos} is {@link System#nanoTime()} when the
     * answer (or the failure) came back.
     */
    record Result(Kind kind, Long orderId, long userId, long productId, int quantity, int status, String body, String xid,
                  long answeredNanos) {
        /**
         * The order row (user's shard) and the stock (product's shard) are on different databases:
         * a two-phase commit, decided by the coordinator. The others commit in one phase.
         */
        boolean acrossShards() {
            return Math.floorMod(userId, 2) != Math.floorMod(productId, 2);
        }
    }

    private final String baseUrl;
    private final int products;
    private final long seed;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final JsonMapper json = JsonMapper.builder().build();
    private final List<Result> results = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger attempts = new AtomicInteger();
    private final AtomicInteger created = new AtomicInteger();
    private final AtomicInteger createdAcrossShards = new AtomicInteger();
    private ExecutorService pool;
    private final List<Future<?>> workers = new ArrayList<>();

    OrderLoad(String baseUrl, int products, long seed) {
        this.baseUrl = baseUrl;
        this.products = products;
        this.seed = seed;
    }

    /** Starts {@code threads} senders that stop after {@code maxAttempts} attempts in total, or at {@link #stop()}. */
    OrderLoad start(int threads, int maxAttempts) {
        pool = Executors.newFixedThreadPool(threads);
        for (int t = 0; t < threads; t++) {
            Random random = new Random(seed * 1000 + t);
            workers.add(pool.submit(() -> {
                while (!stop.get() && attempts.incrementAndGet() <= maxAttempts) {
                    Result r = placeOne(random);
                    results.add(r);
                    if (r.kind() == Kind.CREATED) {
                        created.incrementAndGet();
                        if (r.acrossShards()) {
                            createdAcrossShards.incrementAndGet();
                        }
                    } else if (r.kind() != Kind.REJECTED) {
                        // the service or the coordinator is down: pace the retries, do not spin
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
                    }
                }
                return null;
            }));
        }
        pool.shutdown();
        return this;
    }

    /** Waits for the senders to finish (after {@link #stop()} or the attempt bound); returns every result. */
    List<Result> finish(Duration atMost) throws Exception {
        for (Future<?> w : workers) {
            w.get(atMost.toMillis(), TimeUnit.MILLISECONDS);
        }
        if (!pool.awaitTermination(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("order senders did not finish within " + atMost);
        }
        synchronized (results) {
            return List.copyOf(results);
        }
    }

    void stop() {
        stop.set(true);
    }

    /** The results so far (the senders keep adding), for a diagnosis while the load still runs. */
    List<Result> resultsSoFar() {
        synchronized (results) {
            return List.copyOf(results);
        }
    }

    int responses() {
        return results.size();
    }

    int created() {
        return created.get();
    }

    /** Committed orders whose two writes were on different shards (two-phase commits). */
    int createdAcrossShards() {
        return createdAcrossShards.get();
    }

    private Result placeOne(Random random) {
        long userId = random.nextInt(20);
        long productId = 1 + random.nextInt(products);
        // every tenth order asks for far more than there is: a 409 at any stock level
        int quantity = random.nextInt(10) == 0 ? TOO_MANY : 1 + random.nextInt(5);
        String body = "{\"userId\":" + userId + ",\"productId\":" + productId + ",\"quantity\":" + quantity + "}";
        HttpRequest req = HttpRequest.newBuilder(URI.create(baseUrl + "/orders")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            JsonNode node = parse(r.body());
            Long orderId = node != null && node.hasNonNull("orderId") ? node.get("orderId").asLong() : null;
            String xid = node != null && node.hasNonNull("xid") ? node.get("xid").asString() : null;
            String error = node != null && node.hasNonNull("error") ? node.get("error").asString() : "";
            Kind kind = switch (r.statusCode()) {
                case 201 -> Kind.CREATED;
                case 409, 404 -> Kind.REJECTED;
                case 503 -> error.equals("rolled_back") ? Kind.ROLLED_BACK : Kind.UNKNOWN;
                default -> Kind.UNKNOWN;
            };
            return new Result(kind, orderId, userId, productId, quantity, r.statusCode(), r.body(), xid, System.nanoTime());
        } catch (java.net.ConnectException e) {
            return new Result(Kind.NOT_SENT, null, userId, productId, quantity, -1, e.toString(), null, System.nanoTime());
        } catch (IOException e) {
            // sent, but the answer was lost (the service died mid-request): it may have committed
            return new Result(Kind.UNKNOWN, null, userId, productId, quantity, -1, e.toString(), null, System.nanoTime());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(Kind.UNKNOWN, null, userId, productId, quantity, -1, e.toString(), null, System.nanoTime());
        }
    }

    private JsonNode parse(String body) {
        try {
            return json.readTree(body);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
