package dev.xatm.client.agent;

import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The prepared branches {@link Resumer} asks about, each with the resource it is prepared on and its
 * owner's node id. Bounded; the oldest entry goes first when full (it is asked about again on the
 * owner's next Welcome, or found by XA RECOVER). Thread-safe.
 */
final class ResumeQueue {
    private static final Logger log = LoggerFactory.getLogger(ResumeQueue.class);

    /** A prepared branch and the resource it is prepared on. */
    record Entry(TmXid xid, String resourceId, int ownerNode) {}

    private final int capacity;
    private final Map<TmXid, Entry> entries = new LinkedHashMap<>(); // guarded by this

    ResumeQueue(int capacity) {
        this.capacity = capacity;
    }

    synchronized void add(TmXid xid, String resourceId, int ownerNode) {
        entries.putIfAbsent(xid, new Entry(xid, resourceId, ownerNode));
        Iterator<TmXid> oldest = entries.keySet().iterator();
        while (entries.size() > capacity) {
            log.warn("More than {} prepared branches wait for an unreachable owner; {} is asked about on its owner's next Welcome",
                    capacity, oldest.next());
            oldest.remove();
        }
    }

    /** Drops the entries of {@code ownerNode}: its link is back and asks by Inquiry. */
    synchronized void forget(int ownerNode) {
        entries.values().removeIf(e -> e.ownerNode() == ownerNode);
    }

    synchronized void remove(TmXid xid) {
        entries.remove(xid);
    }

    synchronized List<Entry> snapshot() {
        return new ArrayList<>(entries.values());
    }

    synchronized int size() {
        return entries.size();
    }
}
