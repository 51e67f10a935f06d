package dev.xatm.sample.shard;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SamplePropertiesTest {
    @Test
    void defaultsAreTheEmbeddedDemo() {
        SampleProperties p = new SampleProperties();
        assertThatCode(p::validate).doesNotThrowAnyException();
        org.assertj.core.api.Assertions.assertThat(p.getShard0().getUrl()).startsWith("jdbc:h2:file:./sample-data/shard0;");
        org.assertj.core.api.Assertions.assertThat(p.getShard1().getUrl()).startsWith("jdbc:h2:file:./sample-data/shard1;");
    }

    @Test
    void badValuesNameTheirProperty() {
        SampleProperties p = new SampleProperties();
        p.getShard1().setUrl("jdbc:oracle:thin:@db:1521/x?password=secret");
        assertThatThrownBy(p::validate).hasMessageContaining("sample.shard1.url").hasMessageNotContaining("secret");

        SampleProperties q = new SampleProperties();
        q.setProducts(0);
        assertThatThrownBy(q::validate).hasMessageContaining("sample.products");

        SampleProperties r = new SampleProperties();
        r.setTablePrefix("x; DROP TABLE orders");
        assertThatThrownBy(r::validate).hasMessageContaining("sample.table-prefix");

        SampleProperties s = new SampleProperties();
        s.setInitialStock(-1);
        assertThatThrownBy(s::validate).hasMessageContaining("sample.initial-stock");
    }
}
