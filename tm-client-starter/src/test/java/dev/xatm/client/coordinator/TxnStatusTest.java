package dev.xatm.client.coordinator;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TxnStatusTest {

    // Every status a server can answer has a constant of the same name here, so GetStatus never
    // loses what the coordinator said; only UNSPECIFIED and a newer server's unknown value fall back.
    @Test
    void everyWireStatusMapsToTheConstantOfItsName() {
        for (dev.xatm.protocol.v1.TxnStatus wire : dev.xatm.protocol.v1.TxnStatus.values()) {
            TxnStatus mapped = TxnStatus.of(wire);
            if (wire == dev.xatm.protocol.v1.TxnStatus.TXN_STATUS_UNSPECIFIED || wire == dev.xatm.protocol.v1.TxnStatus.UNRECOGNIZED) {
                assertThat(mapped).as(wire.name()).isEqualTo(TxnStatus.UNSPECIFIED);
            } else {
                assertThat(mapped.name()).as(wire.name()).isEqualTo(wire.name());
            }
        }
    }

    // Only ACTIVE takes branches: the enlistment retries a refused RegisterBranch only then.
    @Test
    void onlyActiveIsActive() {
        assertThat(TxnStatus.values()).filteredOn(TxnStatus::isActive).containsExactly(TxnStatus.ACTIVE);
    }
}
