package dev.xatm.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What one {@code step} asks the driver to do. Order of obligations, as in etcd raft's Ready:
 * <ol>
 *   <li>append {@link #logAppends()}; if {@link #mustSync()} is set, fsync them and, once durable,
 *       feed a {@link Event.DecisionDurable} for each record that {@link LogRecord#mustBeDurable()} back into the core;</li>
 *   <li>send {@link #messages()} (the core never emits a COMMIT before its decision is durable, so
 *       sending them right away is safe);</li>
 *   <li>deliver {@link #replies()} to the waiting clients.</li>
 * </ol>
 * Immutable once built.
 */
public final class Effects {
    private static final Effects NONE = new Effects(List.of(), List.of(), List.of());

    private final List<LogRecord> logAppends;
    private final List<Outbound> messages;
    private final List<Reply> replies;

    private Effects(List<LogRecord> logAppends, List<Outbound> messages, List<Reply> replies) {
        this.logAppends = logAppends;
        this.messages = messages;
        this.replies = replies;
    }

    public static Effects none() {
        return NONE;
    }

    public List<LogRecord> logAppends() {
        return logAppends;
    }

    /** True when an append must be on stable storage before its {@link Event.DecisionDurable} may be fed back. */
    public boolean mustSync() {
        for (LogRecord r : logAppends) {
            if (r.mustBeDurable()) {
                return true;
            }
        }
        return false;
    }

    public List<Outbound> messages() {
        return messages;
    }

    public List<Reply> replies() {
        return replies;
    }

    public boolean isEmpty() {
        return logAppends.isEmpty() && messages.isEmpty() && replies.isEmpty();
    }

    @Override
    public String toString() {
        return "Effects{log=" + logAppends + ", send=" + messages + ", reply=" + replies + '}';
    }

    /** Collects effects during one step. Not thread-safe; one per step. */
    public static final class Builder {
        private final List<LogRecord> logAppends = new ArrayList<>();
        private final List<Outbound> messages = new ArrayList<>();
        private final List<Reply> replies = new ArrayList<>();

        public Builder append(LogRecord r) {
            logAppends.add(r);
            return this;
        }

        public Builder send(Outbound m) {
            messages.add(m);
            return this;
        }

        public Builder reply(Reply r) {
            replies.add(r);
            return this;
        }

        public Effects build() {
            if (logAppends.isEmpty() && messages.isEmpty() && replies.isEmpty()) {
                return NONE;
            }
            return new Effects(
                    Collections.unmodifiableList(new ArrayList<>(logAppends)),
                    Collections.unmodifiableList(new ArrayList<>(messages)),
                    Collections.unmodifiableList(new ArrayList<>(replies)));
        }
    }
}
