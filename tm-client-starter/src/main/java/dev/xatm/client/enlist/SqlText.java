package dev.xatm.client.enlist;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides from a statement's text whether it can only read, for the READ_ONLY vote. It
 * only ever errs towards "may write": a false "may write" costs a normal prepare, a false "only
 * reads" would finish a branch early that wrote. So it is deliberately crude: the first keyword
 * must be a query keyword, there must be one statement only, and words that turn a query into a
 * write ({@code SELECT ... INTO}, a data-modifying {@code WITH}) mark it as writing wherever they
 * appear, even inside a string literal.
 *
 * <p>A locking read ({@code FOR UPDATE}, {@code FOR SHARE}, {@code FOR NO KEY UPDATE},
 * {@code FOR KEY SHARE}, MySQL's {@code LOCK IN SHARE MODE}) counts as a write too: the application
 * takes those locks to hold them until the global transaction ends, and a branch that finished
 * read-only at PREPARE would let them go before the decision (another transaction could then change
 * what this one's decision rests on).
 *
 * <p>What text cannot show: a function called by a SELECT that writes (it looks like any builtin).
 * PostgreSQL is asked at prepare time whether the transaction wrote
 * ({@link XaDialect#confirmsNothingWritten}); on MySQL and MariaDB, which cannot be asked, read-only
 * votes are off unless the application turns them on ({@link XaDialect#readOnlyVoteNeedsOptIn}). Pure.
 */
final class SqlText {
    private static final Set<String> QUERY_START = Set.of("SELECT", "VALUES", "TABLE", "SHOW", "WITH");
    private static final Set<String> WRITES_IN_SELECT = Set.of("INTO", "FOR", "LOCK");
    private static final Set<String> WRITES_IN_WITH = Set.of("INSERT", "UPDATE", "DELETE", "MERGE", "INTO", "CALL", "FOR", "LOCK");
    private static final Pattern WORD = Pattern.compile("[A-Za-z_]+");

    private SqlText() {}

    /** True only when the statement certainly just reads. */
    static boolean onlyReads(String sql) {
        if (sql == null) {
            return false;
        }
        int start = skipLeadingNoise(sql);
        if (start < 0) {
            return false;
        }
        String body = sql.substring(start).strip();
        if (body.endsWith(";")) {
            body = body.substring(0, body.length() - 1);
        }
        if (body.indexOf(';') >= 0) {
            return false; // several statements (or a ';' in a literal: we do not parse literals)
        }
        Matcher m = WORD.matcher(body);
        if (!m.lookingAt()) {
            return false;
        }
        String first = m.group().toUpperCase(Locale.ROOT);
        if (!QUERY_START.contains(first)) {
            return false;
        }
        Set<String> forbidden = first.equals("WITH") ? WRITES_IN_WITH : WRITES_IN_SELECT;
        while (m.find()) {
            if (forbidden.contains(m.group().toUpperCase(Locale.ROOT))) {
                return false;
            }
        }
        return true;
    }

    /** Index of the first character after whitespace, comments and opening parentheses; -1 if unterminated. */
    private static int skipLeadingNoise(String sql) {
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c) || c == '(') {
                i++;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int eol = sql.indexOf('\n', i);
                if (eol < 0) {
                    return -1;
                }
                i = eol + 1;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                if (i + 2 < n && sql.charAt(i + 2) == '!') {
                    return -1; // MySQL runs the content of /*! ... */ as SQL
                }
                int end = sql.indexOf("*/", i + 2);
                if (end < 0) {
                    return -1;
                }
                i = end + 2;
            } else {
                return i;
            }
        }
        return -1;
    }
}
