/**
 * The coordinator's durable transaction log ({@link dev.xatm.coordinator.log.TxnLog}) and its two
 * stores, the file ({@link dev.xatm.coordinator.log.FileTxnLog}) and the JDBC one
 * ({@link dev.xatm.coordinator.log.JdbcTxnLog}).
 *
 * <p>What a reader of this package needs to know first:
 * <ul>
 *   <li>Layout and crash rules: {@code Segments}. Record bytes: {@code RecordCodec}.</li>
 *   <li>Only Decisions must survive (presumed abort); a lost Completed costs one idempotent COMMIT
 *       resend. So Decisions are appended with sync, Completed records without.</li>
 *   <li>Group commit and the failed state, for both stores: {@code GroupCommitWriter}; what a batch
 *       becomes: {@code SegmentWriter} (file), {@code DecisionRowWriter} (JDBC); checkpoints:
 *       {@code SegmentWriter}; start-up of the file log: {@code FileRecovery}.</li>
 *   <li>A log is only a log: this package never depends on {@code dev.xatm.coordinator.cluster}. A
 *       shared store's log writes under a {@link dev.xatm.coordinator.log.NodeFence} the cluster
 *       provides.</li>
 * </ul>
 */
package dev.xatm.coordinator.log;
