package dev.xatm.client.enlist;

import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BqualMinterTest {

    @Test
    void eachBqualNamesItsDatabaseAndIsUniquePerInstance() {
        BqualMinter minter = new BqualMinter("abc12345");
        String tag = BqualMinter.databaseTag("orders_shard_1");

        String first = minter.next(tag);
        String second = minter.next(tag);

        assertThat(first).isEqualTo("b1.abc12345." + tag).isNotEqualTo(second);
        assertThat(BqualMinter.databaseTagOf(first)).contains(tag);
        new TmXid("xatm:c1234-u.1.1", minter.next("zzzz")); // the XA codec accepts the longest shape too
    }

    @Test
    void theTagIsTheDatabaseNotItsSpelling() {
        assertThat(BqualMinter.databaseTag("Orders")).isEqualTo(BqualMinter.databaseTag("orders"))
                .hasSize(4).matches("[0-9a-z]{4}");
        assertThat(BqualMinter.databaseTag("orders_a")).isNotEqualTo(BqualMinter.databaseTag("orders_b"));
        assertThat(BqualMinter.databaseTag(null)).isEqualTo(BqualMinter.databaseTag(""));
    }

    @Test
    void bqualsMintedBeforeTagsCarryNone() {
        assertThat(BqualMinter.databaseTagOf("b1.abc12345")).isEmpty();
        assertThat(BqualMinter.databaseTagOf("b1.abc12345.toolong")).isEmpty();
        assertThat(BqualMinter.databaseTagOf("x1.abc12345.0aaa")).as("not ours").isEmpty();
        assertThat(BqualMinter.databaseTagOf(null)).isEmpty();
    }
}
