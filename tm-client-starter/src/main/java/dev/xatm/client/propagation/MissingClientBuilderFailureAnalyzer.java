package dev.xatm.client.propagation;

import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.UnsatisfiedDependencyException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;
import org.springframework.util.ClassUtils;
import org.springframework.util.StringUtils;

import java.util.function.Predicate;

/**
 * Explains a missing {@code RestClient.Builder} or {@code WebClient.Builder} bean when the Spring
 * Boot module that provides it is not on the class path. Since Spring Boot 4 those builders come
 * from {@code spring-boot-restclient} and {@code spring-boot-webclient}, which
 * {@code spring-boot-starter-webmvc} does not bring; a service that calls another one then fails
 * with "required a bean of type RestClient$Builder that could not be found", which names neither the
 * module nor the reason a caller of a global transaction wants that builder (it is the one the
 * starter adds the {@code TM-XID} header to).
 *
 * <p>Ordered before Spring Boot's generic missing-bean analyzer; says nothing (null) about any other
 * missing bean, or when the module is present, so that analyzer still speaks then. Registered in
 * META-INF/spring.factories. Compares class names only: spring-web is optional for this starter.
 */
public final class MissingClientBuilderFailureAnalyzer extends AbstractFailureAnalyzer<NoSuchBeanDefinitionException>
        implements Ordered {
    private enum Builder {
        REST_CLIENT("org.springframework.web.client.RestClient$Builder", "RestClient.Builder",
                "org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration", "spring-boot-starter-restclient",
                "RestClient.builder().requestInterceptor(tmXidClientInterceptor), injecting the starter's TmXidClientInterceptor bean"),
        WEB_CLIENT("org.springframework.web.reactive.function.client.WebClient$Builder", "WebClient.Builder",
                "org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration", "spring-boot-starter-webclient",
                "WebClient.builder().filter(tmXidExchangeFilter), injecting the starter's TmXidExchangeFilter bean");

        final String type;
        final String shortName;
        final String autoConfiguration;
        final String starter;
        final String byHand;

        Builder(String type, String shortName, String autoConfiguration, String starter, String byHand) {
            this.type = type;
            this.shortName = shortName;
            this.autoConfiguration = autoConfiguration;
            this.starter = starter;
            this.byHand = byHand;
        }
    }

    private final Predicate<String> present;

    public MissingClientBuilderFailureAnalyzer() {
        this(name -> ClassUtils.isPresent(name, MissingClientBuilderFailureAnalyzer.class.getClassLoader()));
    }

    /** @param present whether a class of this name can be loaded (the tests pretend a module is missing) */
    MissingClientBuilderFailureAnalyzer(Predicate<String> present) {
        this.present = present;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, NoSuchBeanDefinitionException cause) {
        Class<?> missing = cause.getBeanType();
        if (missing == null) {
            return null;
        }
        for (Builder b : Builder.values()) {
            if (b.type.equals(missing.getName()) && !present.test(b.autoConfiguration)) {
                return new FailureAnalysis(description(rootFailure, b), action(b), cause);
            }
        }
        return null;
    }

    private static String description(Throwable rootFailure, Builder b) {
        String who = rootFailure instanceof UnsatisfiedDependencyException u && u.getInjectionPoint() != null
                ? StringUtils.capitalize(u.getInjectionPoint() + " of bean '" + u.getBeanName() + "'") : "A bean";
        return who + " needs a " + b.shortName + " bean, and there is none: Spring Boot 4 auto-configures " + b.shortName
                + " only when " + b.starter + " is on the class path (spring-boot-starter-webmvc does not bring it).";
    }

    private static String action(Builder b) {
        return "Add the dependency org.springframework.boot:" + b.starter + " (version from Spring Boot's BOM). "
                + "The xatm starter then adds the TM-XID header to every client built from that " + b.shortName
                + ", so the service called joins the caller's global transaction. (Or build the client yourself with "
                + b.byHand + "; a client built without it calls outside the global transaction.)";
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE + 100;
    }
}
