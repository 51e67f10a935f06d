package dev.xatm.client.coordinator;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Parses {@code tm.client.server-address}: {@code host:port[,host:port...]}. */
public final class ServerAddresses {
    private ServerAddresses() {}

    public static List<InetSocketAddress> parse(String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("tm.client.server-address is not set; give the coordinator's gRPC address as host:port (tm-server's tm.server.port)");
        }
        List<InetSocketAddress> out = new ArrayList<>();
        for (String part : value.split(",")) {
            String p = part.trim();
            int colon = p.lastIndexOf(':');
            if (colon <= 0 || colon == p.length() - 1) {
                throw new IllegalArgumentException("tm.client.server-address: '" + p + "' is not host:port");
            }
            String host = p.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(p.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("tm.client.server-address: port of '" + p + "' is not a number");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("tm.client.server-address: port of '" + p + "' must be 1..65535");
            }
            out.add(InetSocketAddress.createUnresolved(host, port));
        }
        return List.copyOf(out);
    }
}
