package dev.xatm.client.enlist;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Every data source the starter wrapped, for the agent's recovery scan and the start-up check. Thread-safe. */
public final class ResourceRegistry {
    private final List<EnlistedResource> resources = new CopyOnWriteArrayList<>();

    public void add(EnlistedResource r) {
        resources.add(r);
    }

    public List<EnlistedResource> all() {
        return List.copyOf(resources);
    }
}
