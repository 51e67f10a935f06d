package dev.xatm.client.enlist;

/** The XA calls whose failures are classified; see {@link XaErrorClassifier}. */
public enum XaOperation {
    START, END, PREPARE, COMMIT, COMMIT_ONE_PHASE, ROLLBACK
}
