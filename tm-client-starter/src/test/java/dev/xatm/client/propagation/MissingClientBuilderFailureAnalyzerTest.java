package dev.xatm.client.propagation;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.Environment;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.support.SpringFactoriesLoader;
import org.springframework.web.client.RestClient;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A caller that injects RestClient.Builder without spring-boot-restclient on its class path is told
 * which dependency to add and why, ahead of Spring Boot's generic "could not be found"; with the
 * module present, or for any other missing bean, this analyzer stays silent.
 */
class MissingClientBuilderFailureAnalyzerTest {
    /** Service A's calling bean, as docs/two-services.md writes it. */
    static class CallsInventory {
        CallsInventory(RestClient.Builder builder) {
            builder.build();
        }
    }

    static class NeedsSomethingElse {
        NeedsSomethingElse(Runnable missing) {
            missing.run();
        }
    }

    @Test
    void aMissingRestClientBuilderNamesTheStarterToAdd() {
        Throwable failure = startupFailure(CallsInventory.class);
        FailureAnalysis analysis = new MissingClientBuilderFailureAnalyzer(name -> false).analyze(failure);
        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription())
                .contains("needs a RestClient.Builder bean, and there is none")
                .contains("Spring Boot 4 auto-configures RestClient.Builder only when spring-boot-starter-restclient is on the class path")
                .startsWith("Constructor parameter 0 of bean '")
                .contains("CallsInventory");
        assertThat(analysis.getAction())
                .startsWith("Add the dependency org.springframework.boot:spring-boot-starter-restclient")
                .contains("TM-XID")
                .contains("requestInterceptor(tmXidClientInterceptor), injecting the starter's TmXidClientInterceptor bean");
    }

    @Test
    void silentWhenTheModuleIsThereOrAnotherBeanIsMissing() {
        assertThat(new MissingClientBuilderFailureAnalyzer(name -> true).analyze(startupFailure(CallsInventory.class))).isNull();
        assertThat(new MissingClientBuilderFailureAnalyzer(name -> false).analyze(startupFailure(NeedsSomethingElse.class))).isNull();
    }

    /** Spring Boot finds it, and asks it before its own missing-bean analyzer. */
    @Test
    void registeredAheadOfSpringBootsMissingBeanAnalyzer() {
        // loaded and sorted the way Spring Boot's FailureAnalyzers does (those needing other arguments skipped)
        var arguments = SpringFactoriesLoader.ArgumentResolver.of(BeanFactory.class, new DefaultListableBeanFactory())
                .and(Environment.class, new StandardEnvironment());
        List<String> names = SpringFactoriesLoader.forDefaultResourceLocation(getClass().getClassLoader())
                .load(FailureAnalyzer.class, arguments, SpringFactoriesLoader.FailureHandler.handleMessage((message, e) -> { }))
                .stream().map(a -> a.getClass().getName()).toList();
        String boots = "org.springframework.boot.autoconfigure.diagnostics.analyzer.NoSuchBeanDefinitionFailureAnalyzer";
        assertThat(names).contains(MissingClientBuilderFailureAnalyzer.class.getName(), boots);
        assertThat(names.indexOf(MissingClientBuilderFailureAnalyzer.class.getName())).isLessThan(names.indexOf(boots));
    }

    private static Throwable startupFailure(Class<?> bean) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        new ApplicationContextRunner().withBean(bean).run(ctx -> failure.set(ctx.getStartupFailure()));
        assertThat(failure.get()).as("the context must fail to start").isNotNull();
        return failure.get();
    }
}
