package dev.xatm.client.it.embedded;

import org.springframework.context.ConfigurableApplicationContext;

import java.util.HashMap;
import java.util.Map;

/**
 * The process {@link EmbeddedRestartIT} crashes: an embedded-mode application that commits one
 * global transaction across its two databases and halts as soon as the decision is durable
 * ({@link CrashAfterDecision}). Arguments: {@code name=value} properties. Exit status 3 means the
 * commit finished without the crash, which the test treats as a failure.
 */
public final class EmbeddedCrashChild {
    public static void main(String[] args) {
        Map<String, Object> p = new HashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            p.put(a.substring(0, eq), a.substring(eq + 1));
        }
        ConfigurableApplicationContext app = EmbeddedH2IT.start(p, EmbeddedApp.class, CrashAfterDecision.class);
        app.getBean(EmbeddedWork.class).writeBoth(Long.parseLong((String) p.get("it.first-id")), Long.parseLong((String) p.get("it.second-id")));
        System.out.println("COMMITTED WITHOUT CRASH");
        System.exit(3);
    }
}
