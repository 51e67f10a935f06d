package dev.xatm.client.support;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.GlobalRollbackException;
import dev.xatm.client.GlobalTimeoutException;
import dev.xatm.client.GlobalTransactionDefinition;
import dev.xatm.client.HeuristicOutcomeException;
import dev.xatm.client.Propagation;
import dev.xatm.client.RollbackRules;
import dev.xatm.client.TmUsageException;
import dev.xatm.client.context.GlobalTxContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Propagation, rollback rules and outcome handling of the machinery, against a fake coordinator. */
class GlobalTransactionManagerTest {
    final FakeCoordinator coordinator = new FakeCoordinator();
    final GlobalTransactionManager manager = new GlobalTransactionManager(coordinator, new GtridMinter("t", new dev.xatm.protocol.ClusterId("test1234"), "tag"), 60_000, true, TxMetrics.NONE);
    final GlobalTransactionDefinition required = GlobalTransactionDefinition.DEFAULT;

    @AfterEach
    void nothingLeftBound() {
        assertThat(GlobalTxContext.current()).isNull();
    }

    @Test
    void requiredBeginsBindsAndCommits() {
        String gtrid = manager.execute(required, s -> {
            assertThat(s.isNewTransaction()).isTrue();
            return GlobalTxContext.currentGtrid();
        });
        assertThat(gtrid).startsWith("t:test1234-tag.");
        assertThat(coordinator.calls).containsExactly("begin " + gtrid + " 60000", "commit " + gtrid);
    }

    @Test
    void requiredJoinsAnExistingTransaction() {
        manager.execute(required, outer -> manager.execute(required, inner -> {
            assertThat(inner.isNewTransaction()).isFalse();
            assertThat(inner.gtrid()).isEqualTo(outer.gtrid());
            return null;
        }));
        assertThat(coordinator.kinds()).containsExactly("begin", "commit");
    }

    @Test
    void requiresNewSuspendsTheOuterTransactionAndResumesIt() {
        manager.execute(required, outer -> {
            String inner = manager.execute(required.withPropagation(Propagation.REQUIRES_NEW), s -> s.gtrid());
            assertThat(inner).isNotEqualTo(outer.gtrid());
            assertThat(GlobalTxContext.currentGtrid()).isEqualTo(outer.gtrid());
            return null;
        });
        assertThat(coordinator.kinds()).containsExactly("begin", "begin", "commit", "commit");
    }

    @Test
    void supportsRunsWithoutATransactionWhenThereIsNone() {
        manager.execute(required.withPropagation(Propagation.SUPPORTS), s -> {
            assertThat(s.gtrid()).isNull();
            assertThat(GlobalTxContext.current()).isNull();
            return null;
        });
        assertThat(coordinator.calls).isEmpty();
    }

    @Test
    void notSupportedSuspends() {
        manager.execute(required, outer -> {
            manager.execute(required.withPropagation(Propagation.NOT_SUPPORTED), s -> {
                assertThat(GlobalTxContext.current()).isNull();
                return null;
            });
            assertThat(GlobalTxContext.currentGtrid()).isEqualTo(outer.gtrid());
            return null;
        });
    }

    @Test
    void mandatoryWithoutATransactionFails() {
        assertThatThrownBy(() -> manager.execute(required.withPropagation(Propagation.MANDATORY), s -> null))
                .isInstanceOf(TmUsageException.class).hasMessageContaining("MANDATORY");
        assertThat(coordinator.calls).isEmpty();
    }

    @Test
    void neverWithATransactionFails() {
        assertThatThrownBy(() -> manager.execute(required, s -> manager.execute(required.withPropagation(Propagation.NEVER), t -> null)))
                .isInstanceOf(TmUsageException.class).hasMessageContaining("NEVER");
        assertThat(coordinator.kinds()).containsExactly("begin", "rollback");
    }

    @Test
    void uncheckedExceptionRollsBackAndIsRethrownUnchanged() {
        IllegalStateException boom = new IllegalStateException("boom");
        assertThatThrownBy(() -> manager.execute(required, s -> {
            throw boom;
        })).isSameAs(boom);
        assertThat(coordinator.kinds()).containsExactly("begin", "rollback");
    }

    @Test
    void checkedExceptionCommitsUnlessARuleSaysOtherwise() {
        assertThatThrownBy(() -> manager.execute(required, s -> {
            throw new IOException("checked");
        })).isInstanceOf(IOException.class);
        assertThat(coordinator.kinds()).containsExactly("begin", "commit");
        coordinator.calls.clear();
        GlobalTransactionDefinition rollbackOnIo = required.withRollbackRules(new RollbackRules(List.of(IOException.class), List.of()));
        assertThatThrownBy(() -> manager.execute(rollbackOnIo, s -> {
            throw new IOException("checked");
        })).isInstanceOf(IOException.class);
        assertThat(coordinator.kinds()).containsExactly("begin", "rollback");
    }

    @Test
    void aFailingParticipantDoomsTheWholeTransaction() {
        assertThatThrownBy(() -> manager.execute(required, outer -> {
            try {
                manager.execute(required, inner -> {
                    throw new IllegalStateException("participant");
                });
            } catch (IllegalStateException swallowed) {
                // the outer method carries on as if nothing happened
            }
            return null;
        })).isInstanceOf(GlobalRollbackException.class).hasMessageContaining("participant");
        assertThat(coordinator.kinds()).containsExactly("begin", "rollback");
    }

    @Test
    void setRollbackOnlyRollsBack() {
        assertThatThrownBy(() -> manager.execute(required, s -> {
            s.setRollbackOnly();
            return null;
        })).isInstanceOf(GlobalRollbackException.class);
        assertThat(coordinator.kinds()).containsExactly("begin", "rollback");
    }

    /** THREE_PHASE travels on Begin; the commit request is the same (the coordinator runs the phases). */
    @Test
    void threePhaseBeginsWithTheProtocol() {
        String gtrid = manager.execute(required.withProtocol(CommitProtocol.THREE_PHASE), s -> s.gtrid());
        assertThat(coordinator.calls).containsExactly("begin " + gtrid + " 60000 THREE_PHASE", "commit " + gtrid);
    }

    /** A joined method runs in the outer transaction's protocol: no second Begin, whatever it asks for. */
    @Test
    void aJoinedMethodKeepsTheOuterProtocol() {
        String gtrid = manager.execute(required, outer -> manager.execute(required.withProtocol(CommitProtocol.THREE_PHASE),
                inner -> inner.gtrid()));
        assertThat(coordinator.calls).containsExactly("begin " + gtrid + " 60000", "commit " + gtrid);
    }

    /** The metrics hear the protocol on begin and end. */
    @Test
    void metricsAreToldTheProtocol() {
        List<String> seen = new java.util.ArrayList<>();
        GlobalTransactionManager counted = new GlobalTransactionManager(coordinator, new GtridMinter("t", new dev.xatm.protocol.ClusterId("test1234"), "tag"), 60_000, true,
                new TxMetrics() {
                    @Override
                    public void begun(CommitProtocol protocol) {
                        seen.add("begun " + protocol.tag());
                    }

                    @Override
                    public void ended(GlobalOutcome outcome, CommitProtocol protocol) {
                        seen.add(outcome + " " + protocol.tag());
                    }
                });
        counted.execute(required.withProtocol(CommitProtocol.THREE_PHASE), s -> null);
        counted.execute(required, s -> null);
        coordinator.commitOutcome = GlobalOutcome.ROLLED_BACK;
        assertThatThrownBy(() -> counted.execute(required.withProtocol(CommitProtocol.THREE_PHASE), s -> null))
                .isInstanceOf(GlobalRollbackException.class);
        assertThat(seen).containsExactly("begun 3PC", "COMMITTED 3PC", "begun 2PC", "COMMITTED 2PC", "begun 3PC", "ROLLED_BACK 3PC");
    }

    @Test
    void coordinatorOutcomesBecomeExceptions() {
        coordinator.commitOutcome = GlobalOutcome.ROLLED_BACK;
        assertThatThrownBy(() -> manager.execute(required, s -> null)).isInstanceOf(GlobalRollbackException.class);
        coordinator.commitOutcome = GlobalOutcome.TIMED_OUT;
        assertThatThrownBy(() -> manager.execute(required, s -> null)).isInstanceOf(GlobalTimeoutException.class);
        coordinator.commitOutcome = GlobalOutcome.HEURISTIC_HAZARD;
        assertThatThrownBy(() -> manager.execute(required, s -> null)).isInstanceOf(HeuristicOutcomeException.class)
                .satisfies(e -> assertThat(((HeuristicOutcomeException) e).outcome()).isEqualTo(GlobalOutcome.HEURISTIC_HAZARD));
    }

    @Test
    void aMethodThatOutlivesItsDeadlineIsRolledBack() {
        assertThatThrownBy(() -> manager.execute(required.withTimeoutMs(1), s -> {
            long until = System.nanoTime() + 20_000_000L;
            while (System.nanoTime() < until) {
                Thread.onSpinWait(); // outlive the 1 ms deadline
            }
            return null;
        })).isInstanceOf(GlobalTimeoutException.class);
        assertThat(coordinator.kinds()).containsExactly("begin", "rollback");
    }
}
