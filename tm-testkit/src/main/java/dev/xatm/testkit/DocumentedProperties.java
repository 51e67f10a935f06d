package dev.xatm.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two lists a configuration-metadata test compares: the properties a README's tables document
 * (first cell of each row, in backquotes; {@code `tm.server.jdbc.url`, `.username`} names the
 * second relative to the first) and the properties named by every
 * {@code META-INF/spring-configuration-metadata.json} on the class path, which the IDE offers.
 * Stateless.
 */
public final class DocumentedProperties {
    private static final Pattern ROW = Pattern.compile("^\\|([^|]*)\\|");
    private static final Pattern NAME = Pattern.compile("`([a-z0-9.\\-\\[\\]]+)`");
    private static final Pattern METADATA_NAME = Pattern.compile("\"name\"\\s*:\\s*\"([^\"]+)\"");

    private DocumentedProperties() {}

    /**
     * Properties starting with {@code prefix} that the tables of {@code readme} document: tables whose
     * header's first cell is "Property" (other tables, such as one of renamed meters, do not count).
     */
    public static Set<String> inReadme(Path readme, String prefix) throws IOException {
        Set<String> out = new TreeSet<>();
        boolean inPropertyTable = false;
        boolean inTable = false;
        for (String line : Files.readAllLines(readme)) {
            Matcher row = ROW.matcher(line);
            if (!row.find()) {
                inTable = false;
                continue;
            }
            if (!inTable) {
                inTable = true;
                inPropertyTable = row.group(1).strip().equals("Property");
                continue;
            }
            if (!inPropertyTable) {
                continue;
            }
            String last = null;
            Matcher name = NAME.matcher(row.group(1));
            while (name.find()) {
                String n = name.group(1);
                if (n.startsWith(".") && last != null) {
                    n = last.substring(0, last.lastIndexOf('.')) + n;
                }
                if (n.startsWith(prefix)) {
                    out.add(n);
                    last = n;
                }
            }
        }
        return out;
    }

    /** Every property (and group) name in the generated configuration metadata on the class path. */
    public static Set<String> inMetadata(ClassLoader loader) throws IOException {
        Set<String> out = new TreeSet<>();
        Enumeration<URL> files = loader.getResources("META-INF/spring-configuration-metadata.json");
        while (files.hasMoreElements()) {
            try (InputStream in = files.nextElement().openStream()) {
                Matcher m = METADATA_NAME.matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                while (m.find()) {
                    out.add(m.group(1));
                }
            }
        }
        return out;
    }
}
