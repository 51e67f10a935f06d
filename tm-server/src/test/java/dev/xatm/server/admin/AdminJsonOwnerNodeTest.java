package dev.xatm.server.admin;

import dev.xatm.core.Outcome;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.view.TxnDetail;
import dev.xatm.core.view.TxnSummary;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin JSON names each transaction's owner node on a JDBC store (this server's node id, adopted
 * transactions included) and leaves it out on the file store; the other fields are unchanged.
 */
class AdminJsonOwnerNodeTest {
    private static final TxnSummary ADOPTED = new TxnSummary("g1", "n", "2PC", "COMMIT", TxnStatus.COMMITTING, Outcome.COMMITTED,
            10, 20, -1, 1_000, 2, true, null);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void aJdbcStoreServerNamesItselfAsTheOwnerOfEveryTransactionItHolds() {
        AdminJson.Times times = new AdminJson.Times(m -> m, 2);

        assertThat(times.transaction(ADOPTED).ownerNode()).isEqualTo(2);
        assertThat(times.detail(new TxnDetail(ADOPTED, List.of(), List.of(), List.of(), 0), List.of()).ownerNode()).isEqualTo(2);
        assertThat(JSON.writeValueAsString(times.transaction(ADOPTED))).contains("\"ownerNode\":2").contains("\"restored\":true");
    }

    @Test
    void theFileStoreHasNoOwnerNode() {
        AdminJson.Times times = new AdminJson.Times(m -> m, null);

        assertThat(times.transaction(ADOPTED).ownerNode()).isNull();
        assertThat(new AdminSettings(60_000).ownerNode()).isNull();
        assertThat(JSON.writeValueAsString(times.transaction(ADOPTED))).as("the file store's JSON is unchanged")
                .contains("\"xid\":\"g1\"").contains("\"branches\":2").doesNotContain("ownerNode");
    }
}
