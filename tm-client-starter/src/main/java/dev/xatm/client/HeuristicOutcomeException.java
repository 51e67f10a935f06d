package dev.xatm.client;

/**
 * The outcome is not the one asked for everywhere, or is not known: an operator has to look at the
 * transaction (tm-server's admin API). Never silently turned into success or failure.
 */
public class HeuristicOutcomeException extends TmException {
    private final GlobalOutcome outcome;

    public HeuristicOutcomeException(GlobalOutcome outcome, String message) {
        super(message);
        this.outcome = outcome;
    }

    public GlobalOutcome outcome() {
        return outcome;
    }
}
