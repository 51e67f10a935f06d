package dev.xatm.testkit;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

/**
 * Certificates made at test time, so no key material is ever committed: a certificate authority, a
 * server certificate it signed for {@code localhost} and {@code 127.0.0.1}, and a client certificate
 * it signed (for mutual TLS), all written as PEM files into one directory where Spring Boot's
 * {@code spring.ssl.bundle.pem.*} properties (or anything else reading PEM) can load them.
 *
 * <p>{@link #generate(Path)} also makes a second, unrelated authority ({@link #otherCaCertificate()}):
 * trusting it instead of the real one is how a test plays a client that does not know our CA.
 *
 * <p>EC P-256 keys: generated in milliseconds, unlike RSA. Immutable once generated.
 *
 * @param dir the directory holding every file below
 */
public record TestCertificates(Path dir) {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Generates every file into {@code dir} (created if missing) and returns where they are. */
    public static TestCertificates generate(Path dir) {
        try {
            Files.createDirectories(dir);
            Issued ca = selfSignedCa("CN=xatm test CA");
            Issued otherCa = selfSignedCa("CN=some other CA");
            Issued server = signed(ca, "CN=localhost", true);
            Issued client = signed(ca, "CN=xatm test client", false);
            TestCertificates files = new TestCertificates(dir);
            write(files.caCertificate(), ca.certificate);
            write(files.otherCaCertificate(), otherCa.certificate);
            write(files.serverCertificate(), server.certificate);
            write(files.serverKey(), server.keys.getPrivate());
            write(files.clientCertificate(), client.certificate);
            write(files.clientKey(), client.keys.getPrivate());
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot generate test certificates", e);
        }
    }

    public Path caCertificate() {
        return dir.resolve("ca.crt");
    }

    /** An authority that signed nothing of ours. */
    public Path otherCaCertificate() {
        return dir.resolve("other-ca.crt");
    }

    /** Signed by the CA; subject alternative names DNS:localhost and IP:127.0.0.1. */
    public Path serverCertificate() {
        return dir.resolve("server.crt");
    }

    /** PKCS#8, unencrypted. */
    public Path serverKey() {
        return dir.resolve("server.key");
    }

    /** Signed by the CA, for client authentication. */
    public Path clientCertificate() {
        return dir.resolve("client.crt");
    }

    /** PKCS#8, unencrypted. */
    public Path clientKey() {
        return dir.resolve("client.key");
    }

    /**
     * Spring Boot properties declaring SSL bundle {@code name} for a server: its certificate and key,
     * and with {@code trustClients} our CA as truststore (to check client certificates).
     */
    public List<String> serverBundle(String name, boolean trustClients) {
        List<String> p = new ArrayList<>();
        p.add(pem(name, "keystore.certificate", serverCertificate()));
        p.add(pem(name, "keystore.private-key", serverKey()));
        if (trustClients) {
            p.add(pem(name, "truststore.certificate", caCertificate()));
        }
        return p;
    }

    /**
     * Spring Boot properties declaring SSL bundle {@code name} for a client trusting {@code ca}
     * ({@link #caCertificate()} or {@link #otherCaCertificate()}), and with {@code certificate} showing
     * the client certificate.
     */
    public List<String> clientBundle(String name, Path ca, boolean certificate) {
        List<String> p = new ArrayList<>();
        p.add(pem(name, "truststore.certificate", ca));
        if (certificate) {
            p.add(pem(name, "keystore.certificate", clientCertificate()));
            p.add(pem(name, "keystore.private-key", clientKey()));
        }
        return p;
    }

    /** A JDK TLS context trusting only {@code ca}, for {@link java.net.http.HttpClient} and the like. */
    public static javax.net.ssl.SSLContext trusting(Path ca) {
        try (var in = Files.newInputStream(ca)) {
            java.security.KeyStore store = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
            store.load(null, null);
            store.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
            javax.net.ssl.TrustManagerFactory trust = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot trust " + ca, e);
        }
    }

    private static String pem(String bundle, String key, Path file) {
        return "spring.ssl.bundle.pem." + bundle + "." + key + "=file:" + file.toAbsolutePath();
    }

    private record Issued(KeyPair keys, X509CertificateHolder certificate) {
    }

    private static Issued selfSignedCa(String subject) throws GeneralSecurityException, OperatorCreationException, IOException {
        KeyPair keys = keyPair();
        X500Name name = new X500Name(subject);
        X509v3CertificateBuilder builder = builder(name, name, keys);
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        return new Issued(keys, builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }

    private static Issued signed(Issued ca, String subject, boolean server)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        KeyPair keys = keyPair();
        X509v3CertificateBuilder builder = builder(ca.certificate.getSubject(), new X500Name(subject), keys);
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
        builder.addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(ca.keys.getPublic()));
        if (server) {
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            // Host name checks read the subject alternative names only; the CN is ignored.
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        } else {
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
        }
        return new Issued(keys, builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.keys.getPrivate())));
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys)
            throws GeneralSecurityException, IOException {
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, RANDOM).add(BigInteger.ONE),
                // a little in the past, so a clock a few seconds behind still accepts it
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject, keys.getPublic());
        builder.addExtension(Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
        return builder;
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256, RANDOM);
        return generator.generateKeyPair();
    }

    private static void write(Path file, Object pemObject) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            // a private key becomes PKCS#8 ("BEGIN PRIVATE KEY"), which Spring's PEM reader takes
            pem.writeObject(pemObject instanceof PrivateKey key ? new org.bouncycastle.util.io.pem.PemObject("PRIVATE KEY",
                    key.getEncoded()) : pemObject);
        }
        Files.writeString(file, text.toString());
    }
}
