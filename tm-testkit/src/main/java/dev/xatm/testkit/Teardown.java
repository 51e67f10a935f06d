package dev.xatm.testkit;

import java.sql.SQLException;

/** The end of every out-of-process IT, in the one order that keeps the checks honest. */
public final class Teardown {
    private Teardown() {}

    /**
     * Stops the server, rolls back our leftover prepared branches and drops the table (a failed test
     * must leave no locks or prepared slots behind), and only then checks that the server never
     * logged its token, so that a failed check still cleans up. Null arguments (a test skipped or
     * failed before it got that far) are passed over.
     */
    public static void serverAndDatabases(ServerProcess server, TestDatabases dbs, String gtridPrefix, String table)
            throws SQLException {
        if (server != null) {
            server.close();
        }
        if (dbs != null) {
            dbs.cleanUp(gtridPrefix, table);
        }
        if (server != null) {
            server.assertTokenNeverLogged();
        }
    }
}
