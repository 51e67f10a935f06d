package dev.xatm.core.participant;

/**
 * One XA call for the driver to run.
 *
 * @param key        the branch; null for {@link XaOp#RECOVER}
 * @param resourceId the database; null when the participant does not know it (a phase command for a
 *                   branch it has no memory of): the driver runs it by xid where XA RECOVER found it
 */
public record XaCall(BranchKey key, String resourceId, XaOp op) {}
