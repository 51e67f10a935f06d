package dev.xatm.client.agent;

import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The periodic recovery sweep: XA RECOVER on every enlisted resource, and for each prepared branch of
 * ours ({@link Recoverer#scan}) that this agent does not hold and that has been listed for at least
 * the safety interval, the same question as after a reconnect (an Inquiry to its owner). It bounds any
 * leak whatever caused it: a PREPARE whose answer was lost on a path nobody saw, a process that died
 * between PREPARE and its decision while the stream stayed up elsewhere.
 *
 * <p>Why the safety interval: a branch between its PREPARE and the coordinator's decision is listed
 * too, and another instance of the application (same gtrid prefix) may hold it. The coordinator does
 * not know a one-round-trip transaction before its commit request arrives and would answer
 * ROLLBACK, so only a branch listed for longer than any commit takes is asked about.
 *
 * <p>Not thread-safe: {@link #sweep} runs on one thread at a time (the agent's recovery scheduler);
 * {@link #settled} may come from any thread.
 */
final class RecoverySweep {
    private static final Logger log = LoggerFactory.getLogger(RecoverySweep.class);
    /** Never sweep again sooner than this, even when a branch's safety interval ends sooner. */
    static final long MIN_DELAY_MILLIS = 100;

    private record Sighting(String resourceId, long firstNanos) {}

    private final Supplier<List<EnlistedResource>> resources;
    private final Recoverer recoverer;
    private final Predicate<TmXid> held;
    private final BiConsumer<TmXid, String> ask;
    private final long intervalNanos;
    private final long safetyNanos;
    private final LongSupplier nanoClock;
    private final AgentListener listener;
    /** Our prepared branches not held here, since when each was first listed. */
    private final Map<TmXid, Sighting> sightings = new ConcurrentHashMap<>();
    /** Those asked about: a phase 2 by xid that finishes one of them counts as settled by a sweep. */
    private final Set<TmXid> asked = ConcurrentHashMap.newKeySet();

    RecoverySweep(Supplier<List<EnlistedResource>> resources, Recoverer recoverer, Predicate<TmXid> held,
                  BiConsumer<TmXid, String> ask, long intervalMillis, long safetyMillis, LongSupplier nanoClock, AgentListener listener) {
        if (intervalMillis <= 0 || safetyMillis < 0) {
            throw new IllegalArgumentException("recovery interval must be > 0 and safety interval >= 0");
        }
        this.resources = resources;
        this.recoverer = recoverer;
        this.held = held;
        this.ask = ask;
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMillis);
        this.safetyNanos = TimeUnit.MILLISECONDS.toNanos(safetyMillis);
        this.nanoClock = nanoClock;
        this.listener = listener;
    }

    /** One pass over every resource; returns how many branches it asked about. */
    int sweep() {
        int n = 0;
        for (EnlistedResource r : resources.get()) {
            if (r.supported()) {
                n += sweep(r);
            }
        }
        asked.retainAll(sightings.keySet());
        listener.recoverySweep();
        return n;
    }

    private int sweep(EnlistedResource r) {
        List<TmXid> listed;
        try {
            listed = recoverer.scan(r);
        } catch (Exception e) {
            log.warn("Recovery sweep: XA RECOVER on {} failed: {}; trying again at the next sweep", r, e.toString());
            return 0; // its sightings stay: a failed scan says nothing about them
        }
        long now = nanoClock.getAsLong();
        Set<TmXid> seen = new HashSet<>();
        int n = 0;
        for (TmXid xid : listed) {
            if (held.test(xid)) {
                continue; // this agent finishes it (a live branch, or one in doubt that it retries)
            }
            seen.add(xid);
            Sighting s = sightings.computeIfAbsent(xid, x -> new Sighting(r.resourceId(), now));
            if (now - s.firstNanos() >= safetyNanos) {
                log.info("Recovery sweep: branch {} on {} has been prepared for {} ms with nobody here holding it; asking the "
                        + "coordinator for its outcome", xid, r, TimeUnit.NANOSECONDS.toMillis(now - s.firstNanos()));
                asked.add(xid);
                ask.accept(xid, r.resourceId());
                n++;
            }
        }
        recoverer.retainFound(r, new HashSet<>(listed));
        sightings.entrySet().removeIf(e -> e.getValue().resourceId().equals(r.resourceId()) && !seen.contains(e.getKey()));
        return n;
    }

    /** A phase 2 by xid finished {@code xid}: counted when a sweep had asked about it. */
    void settled(TmXid xid) {
        if (asked.remove(xid)) {
            sightings.remove(xid);
            listener.settledByRecovery("sweep");
        }
    }

    /**
     * When to sweep next: after the interval, or sooner when a listed branch's safety interval ends
     * before that, so no branch stays prepared much past the interval plus the safety interval.
     */
    long nextDelayMillis() {
        long now = nanoClock.getAsLong();
        long next = intervalNanos;
        for (Sighting s : sightings.values()) {
            long due = s.firstNanos() + safetyNanos - now;
            if (due > 0) {
                next = Math.min(next, due);
            }
        }
        return Math.max(MIN_DELAY_MILLIS, TimeUnit.NANOSECONDS.toMillis(next));
    }

    /** Listed branches not held here that no answer has settled yet; for tests. */
    int watched() {
        return sightings.size();
    }
}
