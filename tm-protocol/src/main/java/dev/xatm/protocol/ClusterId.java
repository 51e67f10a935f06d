package dev.xatm.protocol;

import java.security.SecureRandom;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The id of one xatm deployment: the tm-servers that share one transaction log (one server on a file
 * log, several on a shared JDBC store, or an application's embedded coordinator). Generated once and
 * kept in the log, so it is unique per deployment without anyone configuring it.
 *
 * <p>Why every gtrid carries it: XA RECOVER on MySQL and MariaDB lists the prepared branches of the
 * whole database server, and PostgreSQL those of the whole database, whoever made them. Two
 * deployments sharing a server see each other's branches with the same format id; a coordinator that
 * never heard of a gtrid would presume it aborted and roll back a branch another deployment committed.
 * With the cluster id in the gtrid, an agent recovers only its own deployment's branches, and a
 * coordinator refuses to answer for another's instead of presuming abort.
 *
 * <p>Where it sits: {@code <prefix>:<cluster>-<unique>[:<node>.<epoch>]}, e.g.
 * {@code xatm:k3j9x2mq0a-qteq71by.mwte7qo4.1f}. The unique part of a gtrid minted before cluster ids
 * existed holds no '-', which is how such a legacy gtrid is told apart ({@link #of} is empty for it).
 */
public record ClusterId(String value) {
    /** Lower-case base 36, so it reads the same in logs, XA RECOVER and the admin API. */
    private static final Pattern VALUE = Pattern.compile("[a-z0-9]{4,16}");
    private static final int GENERATED_LENGTH = 10;
    private static final SecureRandom RANDOM = new SecureRandom();

    public ClusterId {
        if (value == null || !VALUE.matcher(value).matches()) {
            throw new IllegalArgumentException("a cluster id is 4..16 characters of [a-z0-9], got "
                    + (value == null ? "null" : "'" + (value.length() > 40 ? value.substring(0, 40) + "..." : value) + "'"));
        }
    }

    /** A fresh random id: 10 base-36 characters, about 52 bits. */
    public static ClusterId generate() {
        StringBuilder s = new StringBuilder(GENERATED_LENGTH);
        for (int i = 0; i < GENERATED_LENGTH; i++) {
            s.append(Character.forDigit(RANDOM.nextInt(36), 36));
        }
        return new ClusterId(s.toString());
    }

    /** Whether {@code value} is a well-formed cluster id. */
    public static boolean isValid(String value) {
        return value != null && VALUE.matcher(value).matches();
    }

    /**
     * The cluster {@code gtrid} names, or empty for a gtrid without one: minted before cluster ids, by a
     * client of a server that predates them, or not ours at all.
     */
    public static Optional<ClusterId> of(String gtrid) {
        if (gtrid == null) {
            return Optional.empty();
        }
        int colon = gtrid.indexOf(':');
        if (colon < 0) {
            return Optional.empty();
        }
        int dash = gtrid.indexOf('-', colon + 1);
        int nextColon = gtrid.indexOf(':', colon + 1);
        if (dash < 0 || (nextColon >= 0 && dash > nextColon)) {
            return Optional.empty();
        }
        String candidate = gtrid.substring(colon + 1, dash);
        return isValid(candidate) ? Optional.of(new ClusterId(candidate)) : Optional.empty();
    }

    /** The start of every gtrid this cluster's clients mint with {@code prefix}: {@code "<prefix>:<cluster>-"}. */
    public String head(String prefix) {
        return prefix + ":" + value + "-";
    }

    /** Whether {@code gtrid} names another cluster (false for this one's and for a legacy gtrid that names none). */
    public boolean isForeign(String gtrid) {
        return of(gtrid).map(c -> !c.equals(this)).orElse(false);
    }

    @Override
    public String toString() {
        return value;
    }
}
