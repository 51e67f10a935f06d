package dev.xatm.core.sim;

import dev.xatm.core.Event;
import dev.xatm.core.Reply;

import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * Everything in flight between the parties. Agent links (commands one way, votes, acks and
 * inquiries the other) delay, lose, duplicate and so reorder messages; each link has an epoch, and
 * a message sent on an earlier epoch of a link (a stream that has ended since) is dropped, as a
 * gRPC stream's messages die with it. Client calls and connection notices are not lost, only
 * delayed; they die with the coordinator incarnation they were sent to.
 */
final class SimNetwork {

    sealed interface Packet permits ToAgent, ToCoordinator, FromClient, ToClient, Notice {}

    /** A phase command, or a rejection of one of the agent's messages. */
    record ToAgent(int agent, int linkEpoch, Object payload) implements Packet {}

    record ToCoordinator(int agent, int linkEpoch, Event event) implements Packet {}

    record FromClient(int client, int coordinatorEpoch, Event request) implements Packet {}

    record ToClient(int client, int coordinatorEpoch, Reply reply) implements Packet {}

    /** The driver noticed a stream end (keepalive): AgentDisconnected. */
    record Notice(int agent, int coordinatorEpoch, Event event) implements Packet {}

    private record InFlight(long at, long seq, Packet packet) {}

    private final SplittableRandom random;
    private final SimOptions options;
    private final PriorityQueue<InFlight> queue = new PriorityQueue<>(
            (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
    private long seq;
    private boolean healed;
    private long lost;
    private long duplicated;

    SimNetwork(SplittableRandom random, SimOptions options) {
        this.random = random;
        this.options = options;
    }

    /** Agent links: delay, loss, duplication (unless healed). */
    void sendLossy(Packet p, long now) {
        if (!healed && random.nextDouble() < options.lossProbability()) {
            lost++;
            return;
        }
        enqueue(p, now + delay());
        if (!healed && random.nextDouble() < options.duplicateProbability()) {
            duplicated++;
            enqueue(p, now + delay());
        }
    }

    void sendReliable(Packet p, long now) {
        enqueue(p, now + delay());
    }

    private long delay() {
        return random.nextInt(1, options.delayMaxTicks() + 1);
    }

    private void enqueue(Packet p, long at) {
        queue.add(new InFlight(at, seq++, p));
    }

    /** The next packet due at or before now, or null. */
    Packet poll(long now) {
        InFlight next = queue.peek();
        if (next == null || next.at > now) {
            return null;
        }
        return queue.poll().packet;
    }

    /** No more loss or duplication; delays (and so reordering) stay. */
    void heal() {
        healed = true;
    }

    long lost() {
        return lost;
    }

    long duplicated() {
        return duplicated;
    }
}
