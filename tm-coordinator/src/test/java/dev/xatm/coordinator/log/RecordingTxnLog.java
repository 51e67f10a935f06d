package dev.xatm.coordinator.log;

import dev.xatm.protocol.ClusterId;
import dev.xatm.core.LogRecord;

import java.util.Optional;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** Passes everything to a real log and remembers what was appended, so tests can look at it. */
public final class RecordingTxnLog implements TxnLog {
    private final TxnLog delegate;
    private final List<LogRecord> appended = new CopyOnWriteArrayList<>();

    public RecordingTxnLog(TxnLog delegate) {
        this.delegate = delegate;
    }

    @Override
    public ClusterId clusterId(Optional<ClusterId> configured) {
        return delegate.clusterId(configured);
    }

    @Override
    public List<LogRecord> open() {
        return delegate.open();
    }

    @Override
    public CompletableFuture<Void> append(List<LogRecord> records, boolean sync) {
        appended.addAll(records);
        return delegate.append(records, sync);
    }

    public List<LogRecord> appended() {
        return List.copyOf(appended);
    }

    @Override
    public dev.xatm.coordinator.log.OperatorJournal operatorJournal() {
        return delegate.operatorJournal();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
