package dev.xatm.client.enlist;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;

/**
 * Wraps every DataSource bean in an {@link EnlistingDataSource}, after it is fully initialised (so
 * the pool's own configuration and binding are untouched). The database is recognised from the
 * pool's JDBC URL, or, for a pool that does not expose one, from a connection's metadata.
 *
 * <p>Collaborators are looked up lazily: a BeanPostProcessor is created before ordinary beans, and
 * asking for them here would create them too early.
 */
public final class DataSourceEnlister implements BeanPostProcessor {
    private static final Logger log = LoggerFactory.getLogger(DataSourceEnlister.class);

    private final ObjectProvider<Enlistment> enlistment;
    private final ObjectProvider<ResourceRegistry> registry;
    private final Set<String> excluded;
    private final Map<String, String> resourceIds;

    public DataSourceEnlister(ObjectProvider<Enlistment> enlistment, ObjectProvider<ResourceRegistry> registry,
                              Set<String> excluded, Map<String, String> resourceIds) {
        this.enlistment = enlistment;
        this.registry = registry;
        this.excluded = Set.copyOf(excluded);
        this.resourceIds = Map.copyOf(resourceIds);
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (!(bean instanceof DataSource ds) || bean instanceof EnlistingDataSource || excluded.contains(beanName)) {
            return bean;
        }
        String url = EnlistedResource.jdbcUrlOf(ds);
        if (url == null) {
            url = urlFromConnection(ds, beanName);
        }
        XaDialect dialect = XaDialects.forUrl(url);
        EnlistedResource resource = new EnlistedResource(beanName, url, dialect, ds, resourceIds.get(beanName));
        registry.getObject().add(resource);
        if (dialect == null) {
            log.warn("DataSource '{}' ({}) cannot take part in global transactions (supported: {}); it works as before "
                    + "outside them and fails if used inside one", beanName, EnlistedResource.safeUrl(url), XaDialects.supported());
        } else {
            log.info("DataSource '{}' enlists as XA resource '{}' ({})", beanName, resource.resourceId(), dialect.name());
        }
        return new EnlistingDataSource(resource, enlistment.getObject());
    }

    private static String urlFromConnection(DataSource ds, String beanName) {
        try (Connection c = ds.getConnection()) {
            return c.getMetaData().getURL();
        } catch (SQLException | RuntimeException e) {
            log.warn("Cannot tell which database DataSource '{}' points at ({}); it will not be enlisted", beanName, e.toString());
            return null;
        }
    }
}
