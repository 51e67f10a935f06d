package dev.xatm.core.view;

import java.util.List;

/**
 * Everything the coordinator knows of one global transaction: its summary, its branches, why it is
 * in doubt (empty if it is not), and its recent history, oldest first.
 *
 * @param historyDropped how many older history entries were dropped to keep it bounded
 */
public record TxnDetail(TxnSummary summary, List<BranchView> branches, List<InDoubtReason> inDoubt,
                        List<HistoryEntry> history, int historyDropped) {

    public TxnDetail {
        branches = List.copyOf(branches);
        inDoubt = List.copyOf(inDoubt);
        history = List.copyOf(history);
    }
}
