package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;

import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * What the two stores share: a {@link GroupCommitWriter} in front of the store's own batch writer,
 * and an {@link OperatorJournal} beside the records. A store adds its recovery ({@link #open()}), what
 * it encodes per append, and what it releases on {@link #close()}.
 *
 * <p>Thread-safety: as {@link GroupCommitWriter}; appends from any thread.
 */
abstract class GroupCommitLog implements TxnLog {
    final GroupCommitWriter writer;
    private final OperatorJournal operatorJournal;

    GroupCommitLog(GroupCommitWriter.Settings settings, GroupCommitWriter.BatchWriter batchWriter, OperatorJournal operatorJournal) {
        this.writer = new GroupCommitWriter(settings, batchWriter);
        this.operatorJournal = operatorJournal;
    }

    /** Hands one encoded append to the writer; see {@link GroupCommitWriter#append}. */
    final CompletableFuture<Void> queue(List<LogRecord> records, List<byte[]> payloads, int bytes, boolean sync) {
        return writer.append(records, payloads, bytes, sync);
    }

    @Override
    public final OperatorJournal operatorJournal() {
        return operatorJournal;
    }

    /**
     * The batch being written is older than anything queued, so the oldest waiting append is its
     * first one, or else the queue's head: a hung write shows as an age that keeps growing.
     */
    @Override
    public final OptionalLong oldestPendingSince() {
        return writer.oldestPendingSince();
    }

    /** Records written since this instance opened (not counting a file log's checkpoint copies). */
    public final long recordsWritten() {
        return writer.recordsWritten();
    }

    /** Group commits (batches of appends written together) since this instance opened. */
    public final long batches() {
        return writer.batches();
    }

    /** Appends written since this instance opened (an append is one coordinator step's records). */
    public final long appends() {
        return writer.appends();
    }

    /** Total time appends waited from hand-over to written (and synced when asked), in nanoseconds. */
    public final long appendNanos() {
        return writer.appendNanos();
    }
}
