package dev.xatm.client.coordinator;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import org.springframework.boot.ssl.SslBundle;

import javax.net.ssl.SSLException;
import java.util.List;

/**
 * TLS of the remote channels to the tm-servers ({@code tm.client.tls.*}): which authorities the
 * client trusts, the certificate it shows for mutual TLS, and optionally the host name it expects in
 * the servers' certificates instead of the one it dials.
 *
 * <p>Built once and shared by every channel, the configured ones and those opened later for servers
 * the cluster announces. Immutable.
 *
 * @param context           the Netty TLS context of every channel
 * @param authorityOverride the name checked against each server certificate instead of the address's
 *                          host; null = the host of each address (the safe choice: one override for
 *                          several servers means each server's certificate must name it)
 */
public record ChannelTls(SslContext context, String authorityOverride) {

    /**
     * From a Spring Boot SSL bundle: its truststore is what the client trusts and its keystore, when
     * it has one, the client certificate for mutual TLS. A null bundle trusts the JVM's default
     * authorities and shows no certificate (a server with a certificate from a public CA).
     */
    public static ChannelTls of(SslBundle bundle, String bundleName, String authorityOverride) {
        SslContextBuilder builder = GrpcSslContexts.forClient();
        if (bundle != null) {
            if (bundle.getStores().getTrustStore() != null) {
                builder.trustManager(bundle.getManagers().getTrustManagerFactory());
            }
            if (bundle.getStores().getKeyStore() != null) {
                builder.keyManager(bundle.getManagers().getKeyManagerFactory());
            }
            if (bundle.getOptions().getEnabledProtocols() != null) {
                builder.protocols(bundle.getOptions().getEnabledProtocols());
            }
            if (bundle.getOptions().getCiphers() != null) {
                builder.ciphers(List.of(bundle.getOptions().getCiphers()));
            }
        }
        try {
            return new ChannelTls(builder.build(), authorityOverride == null || authorityOverride.isBlank() ? null : authorityOverride.trim());
        } catch (SSLException e) {
            throw new IllegalStateException("cannot use SSL bundle '" + bundleName + "' (tm.client.tls.bundle) for the tm-server"
                    + " channels: " + e.getMessage(), e);
        }
    }

    /** Makes {@code builder} speak TLS with this context. */
    void applyTo(NettyChannelBuilder builder) {
        builder.negotiationType(NegotiationType.TLS).sslContext(context);
        if (authorityOverride != null) {
            builder.overrideAuthority(authorityOverride);
        }
    }
}
