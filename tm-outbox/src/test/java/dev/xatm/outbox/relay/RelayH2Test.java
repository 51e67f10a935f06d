package dev.xatm.outbox.relay;

import dev.xatm.outbox.OutboxMessage;
import dev.xatm.outbox.store.OutboxMigrations;
import dev.xatm.outbox.store.OutboxStore;
import dev.xatm.outbox.store.OutboxTables;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One relay pass on a real (H2) outbox table, with a recording broker: committed rows go in seq
 * order and are marked sent; a broker failure, or a crash between the broker's confirm and the mark,
 * leaves the rows unsent for the next pass (the crash one delivers twice: what the inbox is for);
 * rows another relay holds make the later rows of their key wait; uncommitted rows are not seen.
 */
class RelayH2Test {
    private JdbcDataSource ds;
    private OutboxStore store;
    private final List<OutboxMessage> published = new ArrayList<>();
    private final BrokerPublisher recording = batch -> published.addAll(batch);

    @BeforeEach
    void freshOutbox() {
        ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:relay-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=2000");
        store = OutboxMigrations.migrate("h2", ds, new OutboxTables("t_"));
    }

    @Test
    void committedRowsGoInSeqOrderAndAreMarkedSent() throws Exception {
        insert("a", "b", "a", "c");
        Relay.Pass pass = relay(recording, RelayHook.NONE).runOnce();

        assertThat(pass.sent()).isEqualTo(4);
        assertThat(published).extracting(OutboxMessage::seq).containsExactly(1L, 2L, 3L, 4L);
        assertThat(published).extracting(OutboxMessage::key).containsExactly("a", "b", "a", "c");
        assertThat(published.get(0).headers()).containsEntry("h", "1");
        assertThat(pending()).isZero();
        assertThat(relay(recording, RelayHook.NONE).runOnce().claimed()).as("nothing left to claim").isZero();
    }

    @Test
    void aBrokerFailureLeavesEveryRowUnsent() throws Exception {
        insert("a", "b");
        BrokerPublisher down = batch -> {
            throw new BrokerException("connection refused");
        };
        assertThatThrownBy(() -> relay(down, RelayHook.NONE).runOnce()).isInstanceOf(BrokerException.class);
        assertThat(pending()).isEqualTo(2);

        relay(recording, RelayHook.NONE).runOnce();
        assertThat(published).extracting(OutboxMessage::seq).containsExactly(1L, 2L);
        assertThat(pending()).isZero();
    }

    @Test
    void aCrashAfterTheConfirmRedeliversTheBatch() throws Exception {
        insert("a", "a");
        AtomicBoolean crashed = new AtomicBoolean();
        RelayHook crashOnce = batch -> {
            if (crashed.compareAndSet(false, true)) {
                throw new IllegalStateException("simulated crash between publish and mark-sent");
            }
        };
        Relay relay = relay(recording, crashOnce);
        assertThatThrownBy(relay::runOnce).hasMessageContaining("simulated crash");
        assertThat(pending()).as("not marked").isEqualTo(2);
        relay.runOnce();

        assertThat(published).extracting(OutboxMessage::seq).containsExactly(1L, 2L, 1L, 2L);
        assertThat(published.get(0).messageId()).as("the same message id both times").isEqualTo(published.get(2).messageId());
        assertThat(pending()).isZero();
    }

    @Test
    void rowsAnotherRelayHoldsMakeTheirKeyWait() throws Exception {
        insert("a", "a", "b", "a");
        try (Connection other = ds.getConnection()) {
            other.setAutoCommit(false);
            // the other relay holds seq 1 (key a). (H2 locks every row a LIMIT-ed FOR UPDATE scan reads,
            // not only those it returns, so lock the one row by its key here.)
            try (var st = other.createStatement()) {
                st.executeQuery("SELECT seq FROM t_outbox WHERE seq = 1 FOR UPDATE").close();
            }

            Relay.Pass pass = relay(recording, RelayHook.NONE).runOnce();
            assertThat(pass).as("claimed 2, 3, 4; held back 2 and 4").isEqualTo(new Relay.Pass(3, 1, 2));
            assertThat(published).as("only key b may go").extracting(OutboxMessage::seq).containsExactly(3L);
            other.rollback(); // the other relay died before marking
        }
        relay(recording, RelayHook.NONE).runOnce();
        assertThat(published).extracting(OutboxMessage::seq).containsExactly(3L, 1L, 2L, 4L);
        assertThat(pending()).isZero();
    }

    @Test
    void uncommittedRowsAreNotSent() throws Exception {
        try (Connection writer = ds.getConnection()) {
            writer.setAutoCommit(false);
            store.insert(writer, UUID.randomUUID().toString(), "q", "a", "{}", null);
            assertThat(relay(recording, RelayHook.NONE).runOnce().claimed()).isZero();
            writer.rollback();
        }
        assertThat(published).isEmpty();
        assertThat(pending()).isZero();
    }

    private Relay relay(BrokerPublisher publisher, RelayHook hook) {
        return new Relay("h2", ds, store, publisher, 10, hook, RelayObserver.NONE);
    }

    private void insert(String... keys) throws SQLException {
        try (Connection c = ds.getConnection()) {
            for (String key : keys) {
                store.insert(c, UUID.randomUUID().toString(), "q", key, "{\"k\":\"" + key + "\"}", "h=1");
            }
        }
    }

    private long pending() throws SQLException {
        try (Connection c = ds.getConnection()) {
            return store.pending(c);
        }
    }

}
