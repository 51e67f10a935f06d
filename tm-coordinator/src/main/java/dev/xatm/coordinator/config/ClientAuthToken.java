package dev.xatm.coordinator.config;

import dev.xatm.protocol.TokenRule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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
    /**
     * Printable ASCII without whitespace (it travels in an HTTP/2 header as "Bearer <token>"), and at
     * least {@link TokenRule#MIN_LENGTH} characters, in a file as on the command line.
     */
    private static final Pattern TOKEN = Pattern.compile("[\\x21-\\x7E]{" + TokenRule.MIN_LENGTH + ",1024}");

    private final String value;
    private final Path file;

    private ClientAuthToken(String value, Path file) {
        this.value = value;
        this.file = file;
    }

    /** The configured token, or the one in (or newly generated into) {@code <file.dir>/auth-token}. */
    public static ClientAuthToken resolve(TmServerProperties properties) {
        if (properties.authToken() != null) {
            // long enough and different from every admin token: TmServerProperties checked it (TokenRules)
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
                if (writeAtomically(file, generate(), () -> { })) {
                    log.info("No {} set: generated a {} token into {} (owner-only). "
                            + "Give its content to the {} callers as their bearer token.", property, role, file.toAbsolutePath(), role);
                }
            } else {
                log.info("No {} set: using the {} token stored in {}", property, role, file.toAbsolutePath());
                warnIfOthersCanRead(file);
            }
            String value = Files.readString(file, StandardCharsets.US_ASCII).strip();
            if (!TOKEN.matcher(value).matches()) {
                throw new IllegalStateException("The auth token file " + file.toAbsolutePath()
                        + " does not hold a valid token (" + TokenRule.MIN_LENGTH + "..1024 printable ASCII characters without spaces);"
                        + " delete it to generate a new one");
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
        TokenRule.requireLongEnough(property, value);
        if (!TOKEN.matcher(value).matches()) {
            throw new IllegalArgumentException(property + " must be " + TokenRule.MIN_LENGTH
                    + "..1024 printable ASCII characters without spaces (value not shown)");
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

    /** A step of {@link #writeAtomically} that tests make fail, to show a crash leaves no half-written token. */
    @FunctionalInterface
    interface IoStep {
        void run() throws IOException;
    }

    /**
     * Writes the token so that {@code file} either does not exist or holds the whole token, whatever
     * happens (a crash, a full disk): into a temporary file in the same directory, created owner-only
     * from the start so the token is never readable by others even for a moment, forced to disk, then
     * renamed onto {@code file} (a rename within one directory is atomic), and the directory forced so
     * the rename itself survives a power cut. Writing {@code file} in place would leave an empty or
     * truncated token after a crash, which the next start refuses.
     *
     * @param beforeRename run between the fsync and the rename (tests inject a failure there)
     * @return false when another process created {@code file} meanwhile; its token is then kept
     */
    static boolean writeAtomically(Path file, String token, IoStep beforeRename) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        boolean posix = Files.getFileStore(dir).supportsFileAttributeView("posix");
        Path temp = posix
                ? Files.createTempFile(dir, "." + file.getFileName() + "-", ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : Files.createTempFile(dir, "." + file.getFileName() + "-", ".tmp");
        try {
            if (!posix) {
                // best effort on non-POSIX file systems: clear everybody's bits, then give the owner back
                var f = temp.toFile();
                f.setReadable(false, false);
                f.setWritable(false, false);
                f.setReadable(true, true);
                f.setWritable(true, true);
            }
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer content = ByteBuffer.wrap((token + "\n").getBytes(StandardCharsets.US_ASCII));
                while (content.hasRemaining()) {
                    channel.write(content);
                }
                channel.force(true);
            }
            beforeRename.run();
            // rename(2) would replace a file another process wrote since our check; keep theirs instead.
            // (Two servers on one directory are stopped by the log's directory lock right after this.)
            if (Files.exists(file)) {
                return false;
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
        forceDirectory(dir);
        return true;
    }

    private static void forceDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // some platforms cannot open a directory; the rename is still atomic there, only maybe not yet durable
        }
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
