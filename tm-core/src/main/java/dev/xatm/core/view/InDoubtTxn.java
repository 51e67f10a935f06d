package dev.xatm.core.view;

import java.util.List;

/** A transaction in the in-doubt list, with every reason it is there. */
public record InDoubtTxn(TxnSummary summary, List<InDoubtReason> reasons) {
    public InDoubtTxn {
        reasons = List.copyOf(reasons);
    }
}
