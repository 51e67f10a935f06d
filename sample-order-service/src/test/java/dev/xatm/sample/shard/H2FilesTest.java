package dev.xatm.sample.shard;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Which shard URLs name an H2 file database one process holds, and the database they name. */
class H2FilesTest {
    @Test
    void embeddedFileUrlsNameTheirDatabaseWithoutSettings() {
        assertThat(H2Files.fileDatabase("jdbc:h2:file:./sample-data/shard0;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=10000"))
                .isEqualTo("./sample-data/shard0");
        assertThat(H2Files.fileDatabase("jdbc:h2:/var/db/shard1")).isEqualTo("/var/db/shard1");
        assertThat(H2Files.fileDatabase("JDBC:H2:FILE:/x/y")).isEqualTo("/x/y");
    }

    @Test
    void sharedOrNonFileDatabasesAreNotChecked() {
        assertThat(H2Files.fileDatabase("jdbc:h2:mem:shard0;DB_CLOSE_DELAY=-1")).isNull();
        assertThat(H2Files.fileDatabase("jdbc:h2:tcp://db:9092/shard0")).isNull();
        assertThat(H2Files.fileDatabase("jdbc:h2:ssl://db:9092/shard0")).isNull();
        assertThat(H2Files.fileDatabase("jdbc:postgresql://db/shard0")).isNull();
    }
}
