package dev.xatm.client;

import java.util.List;

/**
 * Which exceptions roll a global transaction back: Spring's rules. By default unchecked exceptions
 * and errors roll back and checked ones commit (the EJB convention: a checked exception is a
 * business outcome the method declared). {@code rollbackFor} / {@code noRollbackFor} override that
 * per type; the rule whose type is the closest superclass of the thrown exception wins, and on a tie
 * the rollback rule wins. Immutable.
 */
public record RollbackRules(List<Class<? extends Throwable>> rollbackFor, List<Class<? extends Throwable>> noRollbackFor) {
    public static final RollbackRules DEFAULT = new RollbackRules(List.of(), List.of());

    public RollbackRules {
        rollbackFor = List.copyOf(rollbackFor);
        noRollbackFor = List.copyOf(noRollbackFor);
    }

    public boolean rollbackOn(Throwable t) {
        int best = Integer.MAX_VALUE;
        Boolean decision = null;
        for (Class<? extends Throwable> type : rollbackFor) {
            int d = depth(t.getClass(), type);
            if (d >= 0 && d < best) {
                best = d;
                decision = true;
            }
        }
        for (Class<? extends Throwable> type : noRollbackFor) {
            int d = depth(t.getClass(), type);
            if (d >= 0 && d < best) { // strictly closer: a tie keeps the rollback rule
                best = d;
                decision = false;
            }
        }
        if (decision != null) {
            return decision;
        }
        return t instanceof RuntimeException || t instanceof Error;
    }

    /** How many superclass steps from {@code thrown} up to {@code type}; -1 when it is not one. */
    private static int depth(Class<?> thrown, Class<?> type) {
        int d = 0;
        for (Class<?> c = thrown; c != null; c = c.getSuperclass(), d++) {
            if (c == type) {
                return d;
            }
        }
        return -1;
    }
}
