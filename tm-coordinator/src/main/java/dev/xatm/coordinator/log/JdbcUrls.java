package dev.xatm.coordinator.log;

import java.util.regex.Pattern;

/** JDBC URLs and driver messages made fit for logs, errors and toString: passwords masked. */
public final class JdbcUrls {
    private static final Pattern PASSWORD_PARAM = Pattern.compile("(?i)(password|pwd)=[^&;]*");
    private static final Pattern USER_INFO = Pattern.compile("//[^/@]*@");

    private JdbcUrls() {}

    /** {@code text} with any {@code password=} / {@code pwd=} parameter and any {@code //user:pass@} part masked. */
    public static String masked(String text) {
        if (text == null) {
            return null;
        }
        return USER_INFO.matcher(PASSWORD_PARAM.matcher(text).replaceAll("$1=***")).replaceAll("//***@");
    }
}
