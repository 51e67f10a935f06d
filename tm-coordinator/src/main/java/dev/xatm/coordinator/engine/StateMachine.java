package dev.xatm.coordinator.engine;

import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.commit.Coordinator;
import dev.xatm.core.view.TxnViews;

import java.util.List;

/**
 * What {@link CoordinatorLoop} needs from the protocol core. In production this is
 * {@link Coordinator}; the seam exists so the loop's effect handling can be tested against scripted
 * effects, independently of the protocol's own rules. Called from the loop thread only.
 */
public interface StateMachine {

    Effects step(Event event);

    TxnStatus status(String gtrid);

    /** Unfinished transactions held now. */
    int liveCount();

    /** The protocol of a transaction held now, or null (then metrics count it as the default, 2PC). */
    default dev.xatm.core.Protocol protocol(String gtrid) {
        return null;
    }

    /**
     * How long a 3PC participant that answered YES to CAN_COMMIT waits for PRE_COMMIT before it rolls
     * back on its own (told to agents in Welcome, for the CAN_COMMIT they answer themselves); 0 when
     * this state machine takes no CAN_COMMIT answers from a request (Event.CanCommitHeld).
     */
    default long participantCanCommitMillis() {
        return 0;
    }

    /** Read-only queries for the admin API; call on the loop thread only. */
    default TxnViews views() {
        throw new UnsupportedOperationException("this state machine offers no admin views");
    }

    /** Builds the state machine from the durable log at start-up. */
    @FunctionalInterface
    interface Restorer {
        StateMachine restore(List<LogRecord> durableRecords, long nowMillis);
    }

    /** The 2PC (presumed abort) coordinator of tm-core. */
    static Restorer twoPhase(CoordinatorConfig config) {
        return (records, nowMillis) -> {
            Coordinator coordinator = Coordinator.restore(config, records, nowMillis);
            return new StateMachine() {
                @Override
                public Effects step(Event event) {
                    return coordinator.step(event);
                }

                @Override
                public TxnStatus status(String gtrid) {
                    return coordinator.status(gtrid);
                }

                @Override
                public int liveCount() {
                    return coordinator.liveCount();
                }

                @Override
                public dev.xatm.core.Protocol protocol(String gtrid) {
                    return coordinator.protocol(gtrid);
                }

                @Override
                public TxnViews views() {
                    return coordinator.views();
                }

                @Override
                public long participantCanCommitMillis() {
                    return config.threePhase().participantCanCommitMillis();
                }
            };
        };
    }
}
