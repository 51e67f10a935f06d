package dev.xatm.core.view;

import java.util.List;

/**
 * One page of a list, newest first.
 *
 * @param items   at most the limit asked for
 * @param total   how many transactions match the query now, on every page
 * @param next    where the next page starts (pass it back as {@code before}), or -1 on the last page
 */
public record TxnPage(List<TxnSummary> items, int total, long next) {
    public TxnPage {
        items = List.copyOf(items);
    }
}
