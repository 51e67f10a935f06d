package dev.xatm.client.autoconfigure;

import dev.xatm.client.enlist.BqualMinter;
import org.springframework.core.env.Environment;

import java.util.regex.Pattern;

/**
 * Values derived once from the properties: the agent id (configured, or the application's name plus
 * a random per-instance tag) and that tag, which also goes into every gtrid and bqual minted here.
 */
record TmClientSettings(String agentId, String instanceTag) {
    private static final Pattern NAME = Pattern.compile("[\\x21-\\x7E]{1,128}");

    static TmClientSettings of(TmClientProperties p, Environment env) {
        String tag = BqualMinter.randomTag();
        String id = p.getAgentId();
        if (id == null || id.isBlank()) {
            String app = env.getProperty("spring.application.name", "app").replaceAll("[^\\x21-\\x7E]", "-");
            id = (app.length() > 100 ? app.substring(0, 100) : app) + "-" + tag;
        }
        if (!NAME.matcher(id).matches()) {
            throw new IllegalArgumentException("tm.client.agent-id must be 1..128 printable ASCII characters without spaces");
        }
        return new TmClientSettings(id, tag);
    }
}
