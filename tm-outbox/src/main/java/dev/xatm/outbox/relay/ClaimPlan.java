package dev.xatm.outbox.relay;

import dev.xatm.outbox.OutboxMessage;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which claimed rows a relay may send now without breaking the order of a key: a claimed row goes
 * only if every unsent row of its key with a lower seq is claimed by this relay too. An earlier
 * unsent row this relay did not claim is locked by another relay (SKIP LOCKED passed over it) or was
 * committed after the claim: sending the later row now could overtake it, so the later rows of that
 * key are held back (released when the claim's transaction ends, claimed again by a later pass).
 *
 * <p>A pure function of the claim and of the unsent seqs read after it.
 *
 * @param sendable  in seq order
 * @param heldBack  claimed but not to be sent by this pass
 */
public record ClaimPlan(List<OutboxMessage> sendable, List<OutboxMessage> heldBack) {
    private static final Comparator<OutboxMessage> BY_SEQ = Comparator.comparingLong(OutboxMessage::seq);

    /**
     * @param claimed      rows this relay locked
     * @param unsentByKey  every unsent seq of the claimed rows' keys, up to the highest claimed seq,
     *                     locked by anyone or by no one (the claimed rows may or may not be among them)
     */
    public static ClaimPlan of(List<OutboxMessage> claimed, Map<String, ? extends Set<Long>> unsentByKey) {
        Map<String, TreeSet<Long>> claimedByKey = new HashMap<>();
        for (OutboxMessage m : claimed) {
            claimedByKey.computeIfAbsent(m.key(), k -> new TreeSet<>()).add(m.seq());
        }
        // per key: the highest seq up to which every unsent row is ours
        Map<String, Long> sendableUpTo = new HashMap<>();
        for (Map.Entry<String, TreeSet<Long>> e : claimedByKey.entrySet()) {
            TreeSet<Long> ours = e.getValue();
            TreeSet<Long> unsent = new TreeSet<>(ours);
            Set<Long> read = unsentByKey.get(e.getKey());
            if (read != null) {
                unsent.addAll(read);
            }
            long upTo = Long.MIN_VALUE;
            for (long seq : unsent) {
                if (!ours.contains(seq)) {
                    break;
                }
                upTo = seq;
            }
            sendableUpTo.put(e.getKey(), upTo);
        }
        List<OutboxMessage> sendable = new ArrayList<>();
        List<OutboxMessage> heldBack = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (OutboxMessage m : claimed) {
            if (!seen.add(m.seq())) {
                throw new IllegalArgumentException("seq " + m.seq() + " claimed twice");
            }
            (m.seq() <= sendableUpTo.get(m.key()) ? sendable : heldBack).add(m);
        }
        sendable.sort(BY_SEQ);
        heldBack.sort(BY_SEQ);
        return new ClaimPlan(List.copyOf(sendable), List.copyOf(heldBack));
    }
}
