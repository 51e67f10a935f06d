package dev.xatm.client;

/**
 * Work to run in a global transaction. May throw the checked exception type {@code E}; the template
 * rethrows it unchanged after applying the rollback rules.
 */
@FunctionalInterface
public interface GlobalTransactionCallback<T, E extends Throwable> {
    T doInGlobalTransaction(GlobalTransactionStatus status) throws E;
}
