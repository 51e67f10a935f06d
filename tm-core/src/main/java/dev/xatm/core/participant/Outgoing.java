package dev.xatm.core.participant;

import dev.xatm.core.Event;

/**
 * A message for a coordinator (a vote, an acknowledgement, an inquiry, a report of an own decision),
 * in the coordinator's own vocabulary.
 *
 * @param server  the coordinator node whose stream carries it; null: the answer goes to the
 *                application thread that ran the command itself (the one-round-trip commit), not on a
 *                stream
 */
public record Outgoing(String server, Event message) {
    public boolean toCaller() {
        return server == null;
    }
}
