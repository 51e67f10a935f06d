package dev.xatm.client.enlist;

import dev.xatm.client.TmUsageException;

import java.sql.Connection;
import java.sql.SQLException;

/** Runs each enlisted database's {@link XaDialect#checkServer} once at start-up. */
public final class StartupCheck {
    private StartupCheck() {}

    public static void run(ResourceRegistry registry) {
        for (EnlistedResource r : registry.all()) {
            if (!r.supported()) {
                continue;
            }
            try (Connection c = r.borrow()) {
                r.dialect().checkServer(c, r.beanName());
            } catch (SQLException e) {
                throw new TmUsageException("Start-up check of data source '" + r.beanName() + "' (" + r.resourceId()
                        + ") failed: " + e.getMessage() + " (set tm.client.startup-check=false to skip it)", e);
            }
        }
    }
}
