package dev.xatm.server.testsupport;

import dev.xatm.core.LogRecord;
import dev.xatm.server.log.TxnLog;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A TxnLog kept in memory: every append is "durable" at once. For tests of the layers above the log. */
public final class InMemoryTxnLog implements TxnLog {
    private final List<LogRecord> records = new ArrayList<>();
    private final List<LogRecord> initial;

    public InMemoryTxnLog() {
        this(List.of());
    }

    public InMemoryTxnLog(List<LogRecord> initial) {
        this.initial = List.copyOf(initial);
    }

    @Override
    public synchronized List<LogRecord> open() {
        records.addAll(initial);
        return List.copyOf(records);
    }

    @Override
    public synchronized CompletableFuture<Void> append(List<LogRecord> appended, boolean sync) {
        records.addAll(appended);
        return CompletableFuture.completedFuture(null);
    }

    public synchronized List<LogRecord> records() {
        return List.copyOf(records);
    }

    @Override
    public void close() {
    }
}
