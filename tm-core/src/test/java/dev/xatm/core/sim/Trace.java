package dev.xatm.core.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * The last lines of what happened, for the failure message. Entries are kept as objects and only
 * formatted on failure (or when printing a replay), because formatting every step of thousands of
 * seeds would cost more than simulating them.
 */
final class Trace {
    private record Line(long tick, String what, Object a, Object b) {
        @Override
        public String toString() {
            return "t=" + tick + " " + what + (a == null ? "" : " " + a) + (b == null ? "" : " => " + b);
        }
    }

    private final Line[] ring;
    private final boolean echo;
    private long count;

    Trace(int capacity, boolean echo) {
        this.ring = new Line[capacity];
        this.echo = echo;
    }

    void add(long tick, String what, Object a, Object b) {
        Line line = new Line(tick, what, a, b);
        ring[(int) (count++ % ring.length)] = line;
        if (echo) {
            System.out.println(line);
        }
    }

    void add(long tick, String what) {
        add(tick, what, null, null);
    }

    List<String> last() {
        List<String> lines = new ArrayList<>();
        long from = Math.max(0, count - ring.length);
        for (long i = from; i < count; i++) {
            lines.add(ring[(int) (i % ring.length)].toString());
        }
        return lines;
    }
}
