/**
 * The coordinator's durable transaction log ({@link dev.xatm.coordinator.log.TxnLog}) and its file
 * implementation ({@link dev.xatm.coordinator.log.FileTxnLog}).
 *
 * <p>What a reader of this package needs to know first:
 * <ul>
 *   <li>Layout and crash rules: {@code Segments}. Record bytes: {@code RecordCodec}.</li>
 *   <li>Only Decisions must survive (presumed abort); a lost Completed costs one idempotent COMMIT
 *       resend. So Decisions are appended with sync, Completed records without.</li>
 *   <li>Group commit, checkpoints and the failed state: {@link dev.xatm.coordinator.log.FileTxnLog}.</li>
 * </ul>
 */
package dev.xatm.coordinator.log;
