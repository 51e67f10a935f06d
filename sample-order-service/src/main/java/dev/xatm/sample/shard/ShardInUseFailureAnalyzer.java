package dev.xatm.sample.shard;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Reports a shard held by another process as Spring Boot's short "APPLICATION FAILED TO START"
 * block (registered in META-INF/spring.factories): the cause and what to do, without the trace of
 * every bean that was being created when the shard could not be opened.
 */
class ShardInUseFailureAnalyzer extends AbstractFailureAnalyzer<ShardInUseException> {
    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ShardInUseException cause) {
        String property = ShardInUseException.property(cause.shard());
        return new FailureAnalysis(cause.getMessage(),
                "Stop the other sample-order-service (H2 releases the file when that process exits), or give this one its own "
                        + "databases, e.g. --" + property + "=jdbc:h2:file:./other-data/shard" + cause.shard()
                        + " (and the same for the other shard). Deleting ./sample-data while no sample runs starts both shards afresh.",
                cause);
    }
}
