package dev.xatm.coordinator.log;

import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Operator actions of the file store, in {@code operator-actions.log} beside the log segments: one line
 * per action, {@code crc32c<TAB>field<TAB>field...} with each field URL-encoded (so no tab or newline
 * can appear inside one). The segments' own record format is untouched, so a directory written before
 * this file existed opens as before, and the checkpoint that compacts the segments never drops an
 * action. A line whose checksum does not match (a write torn by a crash) is skipped when read.
 * Thread-safe: writes are serialized, each fsynced before {@link #record} returns.
 */
final class FileOperatorJournal implements OperatorJournal {
    static final String FILE_NAME = "operator-actions.log";
    private static final String VERSION = "v1";

    private final Path file;

    FileOperatorJournal(Path dir) {
        this.file = dir.resolve(FILE_NAME);
    }

    @Override
    public synchronized void record(OperatorAction a) {
        String fields = String.join("\t", VERSION, a.gtrid(), Long.toString(a.atEpochMillis()), encode(a.operator()), encode(a.role()),
                encode(a.action()), encode(a.result()), a.reason() == null ? "-" : "+" + encode(a.reason()));
        byte[] line = (crc(fields) + "\t" + fields + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer buffer = ByteBuffer.wrap(line);
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            out.force(true);
        } catch (IOException e) {
            throw new TxnLogException("cannot record the operator action in " + file + ": " + e, e);
        }
    }

    @Override
    public synchronized List<OperatorAction> of(String gtrid) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new TxnLogException("cannot read operator actions from " + file + ": " + e, e);
        }
        List<OperatorAction> found = new ArrayList<>();
        for (String line : lines) {
            OperatorAction a = parse(line);
            if (a != null && a.gtrid().equals(gtrid)) {
                found.add(a);
            }
        }
        return found;
    }

    /** The action on one line, or null for a torn or unknown line. */
    private static OperatorAction parse(String line) {
        int tab = line.indexOf('\t');
        if (tab < 0 || !line.substring(0, tab).equals(crc(line.substring(tab + 1)))) {
            return null;
        }
        String[] f = line.substring(tab + 1).split("\t", -1);
        if (f.length != 8 || !VERSION.equals(f[0])) {
            return null;
        }
        try {
            return new OperatorAction(f[1], Long.parseLong(f[2]), decode(f[3]), decode(f[4]), decode(f[5]), decode(f[6]),
                    f[7].startsWith("+") ? decode(f[7].substring(1)) : null);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String crc(String s) {
        CRC32C crc = new CRC32C();
        crc.update(s.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().toHexDigits((int) crc.getValue());
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
