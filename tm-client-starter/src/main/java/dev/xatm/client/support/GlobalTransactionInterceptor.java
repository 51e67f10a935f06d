package dev.xatm.client.support;

import dev.xatm.client.GlobalTransactionDefinition;
import dev.xatm.client.GlobalTransactional;
import dev.xatm.client.RollbackRules;
import dev.xatm.client.TmUsageException;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.support.AopUtils;
import org.springframework.core.MethodClassKey;
import org.springframework.core.annotation.AnnotatedElementUtils;

import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Adapts a method call to {@link GlobalTransactionManager#execute}: reads {@link GlobalTransactional}
 * from the method (or its class) once and caches the definition. Nothing else lives here, as with
 * spring-tx's TransactionInterceptor. Thread-safe.
 */
public final class GlobalTransactionInterceptor implements MethodInterceptor {
    private final GlobalTransactionManager manager;
    /**
     * By the invoked method and the target's class, as spring-tx caches its attributes: a hit costs no
     * reflection (resolving the most specific method looks the method up on the class again each time),
     * and a method inherited by two classes gets each class's own definition (its name, its class's
     * annotation).
     */
    private final Map<MethodClassKey, GlobalTransactionDefinition> definitions = new ConcurrentHashMap<>();

    public GlobalTransactionInterceptor(GlobalTransactionManager manager) {
        this.manager = manager;
    }

    @Override
    public Object invoke(MethodInvocation invocation) throws Throwable {
        Class<?> targetClass = invocation.getThis() != null ? AopUtils.getTargetClass(invocation.getThis()) : invocation.getMethod().getDeclaringClass();
        MethodClassKey key = new MethodClassKey(invocation.getMethod(), targetClass);
        GlobalTransactionDefinition def = definitions.get(key); // a hit builds no capturing lambda
        if (def == null) {
            def = definitions.computeIfAbsent(key, k -> definition(AopUtils.getMostSpecificMethod(invocation.getMethod(), targetClass), targetClass));
        }
        return manager.execute(def, status -> invocation.proceed());
    }

    static GlobalTransactionDefinition definition(Method method, Class<?> targetClass) {
        GlobalTransactional a = AnnotatedElementUtils.findMergedAnnotation(method, GlobalTransactional.class);
        if (a == null) {
            a = AnnotatedElementUtils.findMergedAnnotation(targetClass, GlobalTransactional.class);
        }
        if (a == null) {
            return GlobalTransactionDefinition.DEFAULT.withName(targetClass.getSimpleName() + "." + method.getName());
        }
        String name = a.name().isEmpty() ? targetClass.getSimpleName() + "." + method.getName() : a.name();
        return new GlobalTransactionDefinition(name, timeoutMs(a, targetClass, method), a.protocol(), a.propagation(),
                new RollbackRules(List.of(a.rollbackFor()), List.of(a.noRollbackFor())));
    }

    /** The annotation's timeout as the definition's: DEFAULT_TIMEOUT becomes 0, "the configured default". */
    private static long timeoutMs(GlobalTransactional a, Class<?> targetClass, Method method) {
        long t = a.timeoutMs();
        if (t == GlobalTransactional.DEFAULT_TIMEOUT) {
            return 0;
        }
        if (t <= 0) {
            throw new TmUsageException("@GlobalTransactional(timeoutMs = " + t + ") on " + targetClass.getSimpleName() + "."
                    + method.getName() + ": give a positive number of milliseconds, or leave timeoutMs out to use "
                    + "tm.client.default-timeout-ms");
        }
        return t;
    }
}
