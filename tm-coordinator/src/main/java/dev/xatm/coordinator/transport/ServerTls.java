package dev.xatm.coordinator.transport;

import dev.xatm.coordinator.config.TmServerProperties;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.ssl.SslOptions;

import javax.net.ssl.SSLException;
import java.util.List;

/**
 * Turns {@code tm.server.tls.*} and the Spring Boot SSL bundle it names into the gRPC listener's TLS
 * context: the bundle's keystore is the server's certificate and key, its truststore the authority
 * that client certificates must chain to (checked only with client-auth {@code optional} or
 * {@code require}). The bundle's protocol and cipher options apply when it sets them.
 *
 * <p>The context is built once at start-up: a bundle reloaded later (reload-on-update) reaches the
 * admin HTTP port but not this one, which needs a restart. Stateless.
 */
public final class ServerTls {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ServerTls.class);

    private ServerTls() {
    }

    /** The TLS context of the gRPC port; fails with a message naming the property or bundle that is missing. */
    public static SslContext context(TmServerProperties.Tls tls, SslBundles bundles) {
        SslBundle bundle = bundle(tls.bundle(), bundles, "tm.server.tls.bundle");
        if (bundle.getStores().getKeyStore() == null) {
            throw new IllegalStateException("SSL bundle '" + tls.bundle() + "' (tm.server.tls.bundle) has no keystore: the gRPC port"
                    + " needs the server's certificate and key (spring.ssl.bundle.pem." + tls.bundle()
                    + ".keystore.certificate and .private-key)");
        }
        SslContextBuilder builder = SslContextBuilder.forServer(bundle.getManagers().getKeyManagerFactory());
        if (tls.clientAuth() != TmServerProperties.Tls.ClientAuth.NONE) {
            if (bundle.getStores().getTrustStore() == null) {
                throw new IllegalStateException("tm.server.tls.client-auth=" + tls.clientAuth().name().toLowerCase(java.util.Locale.ROOT)
                        + " needs a truststore in SSL bundle '" + tls.bundle() + "': the CA that signed the clients' certificates"
                        + " (spring.ssl.bundle.pem." + tls.bundle() + ".truststore.certificate)");
            }
            builder.trustManager(bundle.getManagers().getTrustManagerFactory())
                    .clientAuth(tls.clientAuth() == TmServerProperties.Tls.ClientAuth.REQUIRE ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
        }
        log.info("gRPC TLS from SSL bundle '{}', client certificates: {}", tls.bundle(), tls.clientAuth().name().toLowerCase(java.util.Locale.ROOT));
        return build(GrpcSslContexts.configure(builder), bundle.getOptions(), tls.bundle());
    }

    /** A named bundle, or a message that says which property named it and how bundles are declared. */
    private static SslBundle bundle(String name, SslBundles bundles, String property) {
        if (bundles == null) {
            throw new IllegalStateException(property + "=" + name + " needs Spring Boot's SSL bundles (spring.ssl.bundle.*),"
                    + " which this application does not configure");
        }
        try {
            return bundles.getBundle(name);
        } catch (NoSuchSslBundleException e) {
            throw new IllegalStateException(property + " names SSL bundle '" + name + "', which is not declared: add"
                    + " spring.ssl.bundle.pem." + name + ".* (or spring.ssl.bundle.jks." + name + ".*)", e);
        }
    }

    /** Applies the bundle's protocols and ciphers, if it sets any, after gRPC's HTTP/2 defaults. */
    private static SslContext build(SslContextBuilder builder, SslOptions options, String bundleName) {
        if (options.getEnabledProtocols() != null) {
            builder.protocols(options.getEnabledProtocols());
        }
        if (options.getCiphers() != null) {
            builder.ciphers(List.of(options.getCiphers()));
        }
        try {
            return builder.build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot use SSL bundle '" + bundleName + "' for gRPC: " + e.getMessage(), e);
        }
    }
}
