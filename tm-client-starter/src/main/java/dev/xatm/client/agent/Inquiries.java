package dev.xatm.client.agent;

import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.XidMdc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

/**
 * What the agent asks the servers about its prepared branches: an Inquiry on the link that serves a
 * branch's gtrid (after a Welcome, after a NOT_FOUND, when a caller lost the answer to its commit
 * request, for what XA RECOVER lists), or Resume on another server while the owner is unreachable.
 * Asking is idempotent: the coordinator answers with a phase command, and commands may repeat.
 * Thread-safe.
 */
final class Inquiries {
    private static final Logger log = LoggerFactory.getLogger(Inquiries.class);

    private final LinkSet links;
    private final BranchTable table;
    private final Supplier<List<EnlistedResource>> resources;
    private final Recoverer recoverer;
    private final Resumer resumer;
    private final ExecutorService workers;

    Inquiries(LinkSet links, BranchTable table, Supplier<List<EnlistedResource>> resources, Recoverer recoverer, Resumer resumer,
              ExecutorService workers) {
        this.links = links;
        this.table = table;
        this.resources = resources;
        this.recoverer = recoverer;
        this.resumer = resumer;
        this.workers = workers;
    }

    /**
     * After a Welcome of {@code link}: an Inquiry for every prepared branch held in memory that it
     * serves, and for every one of ours XA RECOVER finds (to whichever server owns it).
     */
    void announcePrepared(ServerLink link) {
        ServerLink primary = links.primary();
        inquirePreparedOn(link);
        for (EnlistedResource r : resources.get()) {
            if (!r.supported()) {
                continue;
            }
            try {
                for (TmXid xid : recoverer.scan(r)) {
                    if (table.get(xid) != null) {
                        continue;
                    }
                    boolean untagged = GtridOwner.of(xid.gtrid()).isEmpty();
                    if (untagged && link != primary) {
                        continue; // the primary's Welcome asks about it
                    }
                    log.info("XA RECOVER found prepared branch {} on {}; asking the coordinator for its outcome", xid, r);
                    askAbout(xid, r.resourceId());
                }
            } catch (Exception e) {
                log.warn("XA RECOVER on {} failed: {}; prepared branches there are found on the next reconnect", r, e.toString());
            }
        }
    }

    /**
     * Asks for the outcome of a prepared branch: an Inquiry on the link that serves its gtrid; when the
     * owner's link is down, Resume on another server (soon, and again until a verdict). An untagged one
     * without a primary link waits for the next Welcome.
     */
    void askAbout(TmXid xid, String resourceId) {
        ServerLink l = links.serving(xid.gtrid());
        if (l != null && l.inquire(xid, resourceId)) {
            return;
        }
        GtridOwner.of(xid.gtrid()).ifPresent(owner -> resumer.add(xid, resourceId, owner.nodeId()));
    }

    /**
     * The server on {@code link} does not know a transaction we voted on (a NOT_FOUND; the error does not
     * name the branch): ask it about each branch we hold prepared there, once per burst of errors.
     */
    void reinquire(ServerLink link) {
        if (link.reinquiryQueued.compareAndSet(false, true)) {
            workers.execute(() -> {
                link.reinquiryQueued.set(false);
                inquirePreparedOn(link);
            });
        }
    }

    /** An Inquiry on {@code link} for every branch held prepared here that it serves. */
    private void inquirePreparedOn(ServerLink link) {
        ServerLink primary = links.primary();
        for (Branch b : table.prepared()) {
            if (b.mayInquire() && LinkSet.serves(link, primary, b.xid().gtrid())) {
                link.inquire(b.xid(), b.resource().resourceId());
            }
        }
    }

    /**
     * The caller could not learn the outcome of its commit request: ask about these prepared branches
     * now (as after a reconnect): the owner's answer, now or once it decided, finishes them; while the
     * owner is unreachable, Resume on another server does.
     */
    void inquireAbout(List<Branch> branches) {
        workers.execute(() -> {
            for (Branch b : branches) {
                if (b.mayInquire()) {
                    try (XidMdc.Scope mdc = XidMdc.put(b.xid().gtrid())) {
                        askAbout(b.xid(), b.resource().resourceId());
                    }
                }
            }
        });
    }
}
