package dev.xatm.coordinator.engine;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * How often an agent tried to speak for another agent: a vote or acknowledgement for a branch it does
 * not hold (refused by the core), a Hello for an agent id whose live stream another process opened,
 * or a RegisterBranch or commit with votes naming an agent whose live stream has another instance
 * secret (refused by the transport). An honest agent never causes one, so any count above zero is
 * worth a look: a misconfigured agent id shared by two processes, or a hostile holder of the client
 * token. Thread-safe; counting allocates nothing.
 */
public final class AgentRefusals {
    /** What was refused. */
    public enum Kind {
        VOTE, ACK, HELLO, REGISTER, COMMIT
    }

    private final Map<Kind, LongAdder> counts = new EnumMap<>(Kind.class);

    public AgentRefusals() {
        for (Kind k : Kind.values()) {
            counts.put(k, new LongAdder());
        }
    }

    public void record(Kind kind) {
        counts.get(kind).increment();
    }

    public long count(Kind kind) {
        return counts.get(kind).sum();
    }
}
