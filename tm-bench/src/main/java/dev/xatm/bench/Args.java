package dev.xatm.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code --name=value} command-line arguments. */
final class Args {
    private final Map<String, String> values = new LinkedHashMap<>();

    Args(String[] args) {
        for (String a : args) {
            if (!a.startsWith("--") || !a.contains("=")) {
                throw new IllegalArgumentException("expected --name=value, got " + a);
            }
            values.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
        }
    }

    String get(String name, String dflt) {
        return values.getOrDefault(name, dflt);
    }

    String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + "=... is required");
        }
        return v;
    }

    long getLong(String name, long dflt) {
        return Long.parseLong(get(name, Long.toString(dflt)));
    }

    List<String> list(String name, String dflt) {
        String v = get(name, dflt);
        return v.isBlank() ? List.of() : List.of(v.split(","));
    }
}
