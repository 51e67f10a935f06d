package dev.xatm.server.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The bearer token every gRPC call must carry ({@code tm.server.auth-token}).
 *
 * <p>When the property is unset, a random token is generated on the first start and stored in
 * {@code <file.dir>/auth-token}, readable by the owner only; later starts reuse that file, so agents
 * keep working across restarts. The log names the file, never the token: logs get shipped to places
 * a secret must not go.
 *
 * <p>Immutable; {@link #toString()} hides the value.
 */
public final class ClientAuthToken {
    private static final Logger log = LoggerFactory.getLogger(ClientAuthToken.class);
    static final String FILE_NAME = "auth-token";
    static final String ADMIN_FILE_NAME = "admin-token";
    /** Printable ASCII without whitespace: it travels in an HTTP/2 header as "Bearer <token>". */
    private static final Pattern TOKEN = Pattern.compile("[\\x21-\\x7E]{1,1024}");

    private final String value;
    private final Path file;

    private ClientAuthToken(String value, Path file) {
        this.value = value;
        this.file = file;
    }

    /** The configured token, or the one in (or newly generated into) {@code <file.dir>/auth-token}. */
    public static ClientAuthToken resolve(TmServerProperties properties) {
        if (properties.authToken() != null) {
            if (properties.authToken().length() < 16) {
                log.warn("tm.server.auth-token is shorter than 16 characters; use a long random token outside tests");
            }
            return new ClientAuthToken(properties.authToken(), null);
        }
        return fromFile(properties.file().dirPath().resolve(FILE_NAME));
    }

    /**
     * The admin REST API's token ({@code tm.server.admin-token}), or, when unset, the one in (or newly
     * generated into) {@code <file.dir>/admin-token}, owner-only, exactly like the client token. It is
     * a different secret: a business service holding the client token cannot force outcomes.
     */
    public static ClientAuthToken resolveAdmin(TmServerProperties properties) {
        if (properties.adminToken() != null) {
            if (properties.adminToken().length() < 16) {
                log.warn("tm.server.admin-token is shorter than 16 characters; use a long random token outside tests");
            }
            return new ClientAuthToken(properties.adminToken(), null);
        }
        return fromFile(properties.file().dirPath().resolve(ADMIN_FILE_NAME), "tm.server.admin-token", "admin API");
    }

    static ClientAuthToken fromFile(Path file) {
        return fromFile(file, "tm.server.auth-token", "client");
    }

    private static ClientAuthToken fromFile(Path file, String property, String role) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            if (!Files.exists(file)) {
                try {
                    write(file, generate());
                    log.info("No {} set: generated a {} token into {} (owner-only). "
                            + "Give its content to the {} callers as their bearer token.", property, role, file.toAbsolutePath(), role);
                } catch (FileAlreadyExistsException raced) {
                    // another process created it between our check and our create: use theirs
                }
            } else {
                log.info("No {} set: using the {} token stored in {}", property, role, file.toAbsolutePath());
                warnIfOthersCanRead(file);
            }
            String value = Files.readString(file, StandardCharsets.US_ASCII).strip();
            if (!TOKEN.matcher(value).matches()) {
                throw new IllegalStateException("The auth token file " + file.toAbsolutePath()
                        + " does not hold a valid token (1..1024 printable ASCII characters); delete it to generate a new one");
            }
            return new ClientAuthToken(value, file);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read or create the auth token file " + file.toAbsolutePath(), e);
        }
    }

    /** Validation for {@link TmServerProperties}: an empty value means unset. Never echoes the value. */
    static String checkConfigured(String property, String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (!TOKEN.matcher(value).matches()) {
            throw new IllegalArgumentException(property + " must be 1..1024 printable ASCII characters without spaces (value not shown)");
        }
        return value;
    }

    public String value() {
        return value;
    }

    /** The file the token came from, or null when it was configured directly. */
    public Path file() {
        return file;
    }

    private static String generate() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Creates the file with owner-only permissions from the start, so the token is never world-readable. */
    private static void write(Path file, String token) throws IOException {
        byte[] content = (token + "\n").getBytes(StandardCharsets.US_ASCII);
        if (Files.getFileStore(file.toAbsolutePath().getParent()).supportsFileAttributeView("posix")) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(file);
            var f = file.toFile();
            // best effort on non-POSIX file systems: clear everybody's bits, then give the owner back
            f.setReadable(false, false);
            f.setWritable(false, false);
            f.setReadable(true, true);
            f.setWritable(true, true);
        }
        Files.write(file, content);
    }

    private static void warnIfOthersCanRead(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
                log.warn("The auth token file {} is readable by group or others; restrict it (chmod 600)", file.toAbsolutePath());
            }
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: nothing to check
        }
    }

    @Override
    public String toString() {
        return "ClientAuthToken{" + (file == null ? "configured" : "from " + file) + '}';
    }
}
