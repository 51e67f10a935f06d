package dev.xatm.server.admin;

import dev.xatm.coordinator.config.ClientAuthToken;

/**
 * The admin API's bearer token, a type of its own so it can never be injected where the client
 * token is meant (nor the other way round). {@link #toString()} hides the value.
 */
record AdminToken(ClientAuthToken token) {
    @Override
    public String toString() {
        return "AdminToken{" + token + "}";
    }
}
