package dev.xatm.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/**
 * Free TCP ports for tests, which never use fixed ones (other builds share this machine). A port
 * is free when asked, not guaranteed free when used; for a server the tests start themselves,
 * prefer port 0 and ask it which port it got.
 */
public final class Ports {
    private Ports() {}

    public static int free() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A free port other than {@code taken} (two ports picked one after the other may coincide). */
    public static int freeExcept(int taken) {
        int p = free();
        while (p == taken) {
            p = free();
        }
        return p;
    }
}
