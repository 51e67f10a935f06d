package dev.xatm.core;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link Ids}' hand-written checks against the grammar written as regular expressions (the form
 * {@link Ids#ID_REGEX} publishes for headers), over generated strings that sit near every edge: the
 * allowed characters and their neighbours, non-ASCII, empty, and lengths around each bound.
 */
class IdsTest {
    private static final Pattern ID = Pattern.compile(Ids.ID_REGEX);
    private static final Pattern NAME = Pattern.compile("[\\x21-\\x7E]{1," + Ids.MAX_NAME_CHARS + "}");
    private static final Pattern CLUSTER = Pattern.compile("[a-z0-9]{4,16}");

    @Property(tries = 5_000)
    void anIdIsValidExactlyWhenTheRegexMatches(@ForAll("nearIds") String s) {
        assertThat(Ids.isValidId(s)).as("\"%s\"", s).isEqualTo(ID.matcher(s).matches());
    }

    @Property(tries = 5_000)
    void aNameIsAcceptedExactlyWhenTheRegexMatches(@ForAll("nearNames") String s) {
        boolean accepted;
        try {
            Ids.requireName("name", s);
            accepted = true;
        } catch (IllegalArgumentException e) {
            accepted = false;
        }
        assertThat(accepted).as("\"%s\"", s).isEqualTo(NAME.matcher(s).matches());
    }

    @Property(tries = 5_000)
    void theClusterOfAGtridIsReadAsTheRegexReadsIt(@ForAll("nearIds") String unique, @ForAll("nearIds") String cluster) {
        String gtrid = "xatm:" + cluster + "-" + unique;
        int colon = gtrid.indexOf(':');
        int dash = gtrid.indexOf('-', colon + 1);
        int nextColon = gtrid.indexOf(':', colon + 1);
        String expected = dash < 0 || (nextColon >= 0 && dash > nextColon) || !CLUSTER.matcher(gtrid.substring(colon + 1, dash)).matches()
                ? null : gtrid.substring(colon + 1, dash);
        assertThat(Ids.clusterOf(gtrid)).as(gtrid).isEqualTo(expected);
    }

    @Test
    void nullIsNeverValidAndTheErrorNamesTheGrammar() {
        assertThat(Ids.isValidId(null)).isFalse();
        assertThat(Ids.clusterOf(null)).isNull();
        assertThatThrownBy(() -> Ids.requireGtrid("a b")).hasMessageContaining(Ids.ID_GRAMMAR).hasMessageContaining("\"a b\"");
        assertThatThrownBy(() -> Ids.requireName("agent", null)).hasMessageContaining("agent must be");
        assertThat(Ids.isValidId("x".repeat(64))).isTrue();
        assertThat(Ids.isValidId("x".repeat(65))).isFalse();
        assertThat(Ids.clusterOf("xatm:abcd-42")).isEqualTo("abcd");
    }

    @Provide
    Arbitrary<String> nearIds() {
        return Arbitraries.strings().withChars("aZz09._:-/ @`[{~\u00e9\u0660").ofMinLength(0).ofMaxLength(70);
    }

    @Provide
    Arbitrary<String> nearNames() {
        return Arbitraries.oneOf(
                Arbitraries.strings().withChars(" !~\u007f\u0000\tAz\u00e9").ofMinLength(0).ofMaxLength(12),
                Arbitraries.strings().withChars("ab").ofMinLength(120).ofMaxLength(136));
    }
}
