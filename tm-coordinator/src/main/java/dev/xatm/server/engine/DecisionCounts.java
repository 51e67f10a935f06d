package dev.xatm.server.engine;

import dev.xatm.core.Outcome;
import dev.xatm.core.Protocol;

import java.util.concurrent.atomic.LongAdder;

/**
 * How many transactions this coordinator decided, by outcome and protocol: one count per decision,
 * not per answer (a client that asks again hears the same decision). Written by the coordinator's
 * loop, read by metrics scrapes on any thread; one array slot per pair, so counting allocates nothing.
 */
public final class DecisionCounts {
    private final LongAdder[] counts = new LongAdder[Outcome.values().length * Protocol.values().length];

    DecisionCounts() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** A null protocol (a transaction the core no longer holds) counts as two-phase, the default. */
    void record(Outcome outcome, Protocol protocol) {
        counts[index(outcome, protocol == null ? Protocol.TWO_PHASE : protocol)].increment();
    }

    public long count(Outcome outcome, Protocol protocol) {
        return counts[index(outcome, protocol)].sum();
    }

    private static int index(Outcome outcome, Protocol protocol) {
        return outcome.ordinal() * Protocol.values().length + protocol.ordinal();
    }
}
