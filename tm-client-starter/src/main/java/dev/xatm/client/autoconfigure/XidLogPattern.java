package dev.xatm.client.autoconfigure;

import dev.xatm.protocol.XidMdc;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

import java.util.Map;

/**
 * Offers Spring Boot's log pattern a gtrid: a default {@code logging.pattern.level} of
 * {@value #LEVEL_PATTERN}, so every line a thread writes for a global transaction names it (the
 * starter puts it in the MDC under {@code xatm.xid}). The default sits below every other property
 * source: an application that sets {@code logging.pattern.level} (or its own logback.xml) keeps its
 * pattern, and {@code tm.client.log-xid=false} turns the offer off. Runs before the logging system
 * starts, as Spring Boot's own environment post-processors do.
 */
public final class XidLogPattern implements EnvironmentPostProcessor {
    static final String LEVEL_PATTERN = "%5p %X{" + XidMdc.KEY + "}";
    static final String SOURCE_NAME = "xatmLogXid";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (!environment.getProperty("tm.client.log-xid", Boolean.class, true)) {
            return;
        }
        environment.getPropertySources().addLast(new MapPropertySource(SOURCE_NAME, Map.of("logging.pattern.level", LEVEL_PATTERN)));
    }
}
