package dev.xatm.sample.order;

import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.databind.exc.InvalidFormatException;
import tools.jackson.databind.exc.MismatchedInputException;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Says what is wrong with a body Jackson could not read, naming the field when Jackson knows it: a
 * caller who sent {@code "quantity": 1099511627776} should read "quantity ... is out of range", not
 * "the body must be JSON". Stateless.
 */
final class UnreadableBody {
    static final String GENERIC = "the body must be JSON like " + OrderRequest.EXAMPLE + " with whole numbers";

    // Jackson's overflow message is the only place the number is kept ("Numeric value (123) out of range of ...")
    private static final Pattern OVERFLOW_VALUE = Pattern.compile("\\(([-+0-9.eE]{1,40})\\)");

    private UnreadableBody() {}

    /** A message for people about {@code failure} (an HttpMessageNotReadableException or one of its causes). */
    static String explain(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof JacksonException j) {
                String field = field(j.getPath());
                if (field == null) {
                    return GENERIC;
                }
                if (j instanceof InputCoercionException overflow) {
                    Matcher m = OVERFLOW_VALUE.matcher(overflow.getOriginalMessage());
                    return field + (m.find() ? " " + m.group(1) : "") + " is out of range: " + OrderRequest.rule(field);
                }
                if (j instanceof InvalidFormatException bad && bad.getValue() != null) {
                    return field + " must be a whole number, was " + abbreviate(String.valueOf(bad.getValue()));
                }
                if (j instanceof MismatchedInputException) {
                    return field + " must be a whole number (a JSON number without quotes), e.g. " + OrderRequest.EXAMPLE;
                }
                return GENERIC;
            }
        }
        return GENERIC;
    }

    /** The property a top-level field error is about, or null when it is not one of the request's fields. */
    private static String field(List<JacksonException.Reference> path) {
        if (path == null || path.size() != 1) {
            return null;
        }
        String name = path.get(0).getPropertyName();
        return OrderRequest.FIELDS.contains(name) ? name : null;
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
