package dev.xatm.client.agent;

import dev.xatm.client.enlist.BranchAnswer;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.client.enlist.XaErrorClassifier;
import dev.xatm.client.enlist.XaOperation;
import dev.xatm.client.enlist.XidCalls;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Phase 2 for branches this agent does not hold in memory: found by XA RECOVER after a restart, or
 * whose connection broke after PREPARE. Works by xid on a fresh pooled connection.
 *
 * <p>XAER_NOTA is read with care: on MariaDB a branch still bound to another
 * live session answers XAER_NOTA although it is prepared. So a NOTA counts as "done" only when XA
 * RECOVER on that resource no longer lists the xid; otherwise the command is not acknowledged and
 * the coordinator's resend tries again later. Which listed branches are ours at all is
 * {@link RecoveryFilter}'s call.
 *
 * <p>A NOTA to a COMMIT is "done" only where our own commit may have done it: an earlier XA COMMIT of
 * ours lost its answer ({@link #commitUnanswered}), or nobody here ever saw the branch prepared (a
 * resent COMMIT after a restart: the earlier incarnation most likely committed it). A branch we know
 * was prepared on that resource (held by this agent, or listed by our XA RECOVER) that is gone
 * although no commit of ours reached it was finished by someone else, most likely rolled back by hand:
 * that is reported as a heuristic hazard, never counted as committed. Thread-safe.
 */
final class Recoverer {
    private static final Logger log = LoggerFactory.getLogger(Recoverer.class);

    private final Supplier<List<EnlistedResource>> resources;
    /** Which listed branches are ours, as of now: the cluster id is learnt from the servers, and may change. */
    private final Supplier<RecoveryFilter> filters;
    /** Where XA RECOVER found each xid, so phase 2 goes to that resource first. */
    private final Map<TmXid, EnlistedResource> foundOn = new ConcurrentHashMap<>();
    /** What was said at INFO about the branches left alone on each resource, so it is said once, not at every scan. */
    private final Map<String, Set<String>> reported = new ConcurrentHashMap<>();
    /** Xids whose XA COMMIT was sent and lost its answer: a later XAER_NOTA means that commit went through. */
    private final Set<TmXid> commitsUnanswered = ConcurrentHashMap.newKeySet();
    /**
     * Xids this recoverer committed by xid, the latest {@value #COMMITTED_MEMORY}. A second COMMIT of one
     * of them meets XAER_NOTA, and that NOTA is our own commit, not a hazard: the start-up resume and an
     * XA RECOVER sweep that listed the branch a moment before that commit landed can both ask for it.
     */
    private final Set<TmXid> committedHere = Collections.newSetFromMap(new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<TmXid, Boolean> eldest) {
            return size() > COMMITTED_MEMORY;
        }
    });
    private static final int COMMITTED_MEMORY = 10_000;

    Recoverer(Supplier<List<EnlistedResource>> resources, Supplier<RecoveryFilter> filters) {
        this.resources = resources;
        this.filters = filters;
    }

    /**
     * Our prepared branches on one resource ({@link RecoveryFilter}): our format id, our deployment's
     * cluster id and this resource's database; everything else XA RECOVER lists is left alone, and said
     * so once at INFO.
     */
    List<TmXid> scan(EnlistedResource r) throws SQLException, XAException {
        List<TmXid> out = new ArrayList<>();
        Connection c = r.borrow();
        try {
            RecoveryFilter filter = filters.get();
            String databaseTag = r.databaseTag(c);
            Xid[] listed = r.dialect().xaResource(c).recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN);
            Map<String, Integer> leftAlone = new TreeMap<>();
            for (Xid x : listed == null ? new Xid[0] : listed) {
                Optional<TmXid> parsed = TmXid.parse(x);
                if (parsed.isEmpty()) {
                    continue; // another transaction manager's: not even worth a word
                }
                RecoveryFilter.Verdict v = filter.classify(parsed.get(), databaseTag);
                if (v instanceof RecoveryFilter.Verdict.Ours) {
                    foundOn.put(parsed.get(), r);
                    out.add(parsed.get());
                } else {
                    leftAlone.merge(describe(v), 1, Integer::sum);
                }
            }
            reportLeftAlone(r, leftAlone, filter);
        } finally {
            r.giveBack(c);
        }
        return out;
    }

    private static String describe(RecoveryFilter.Verdict v) {
        if (v instanceof RecoveryFilter.Verdict.OtherCluster o) {
            return "xatm cluster " + o.cluster();
        }
        if (v instanceof RecoveryFilter.Verdict.OtherDatabase) {
            return "another database on the same server (this deployment's)";
        }
        if (v instanceof RecoveryFilter.Verdict.Legacy) {
            return "minted before cluster ids (tm.client.recover-legacy-xids=true recovers them)";
        }
        return "another gtrid prefix";
    }

    /**
     * Two deployments meeting on one database server is normal, and safe now, but worth knowing: say
     * once per resource what XA RECOVER shows that is not ours and why it is left alone.
     */
    private void reportLeftAlone(EnlistedResource r, Map<String, Integer> leftAlone, RecoveryFilter filter) {
        if (leftAlone.isEmpty()) {
            return;
        }
        Set<String> said = reported.computeIfAbsent(r.beanName(), k -> ConcurrentHashMap.newKeySet());
        List<String> news = new ArrayList<>();
        leftAlone.forEach((what, n) -> {
            if (said.add(what)) {
                news.add(n + " of " + what);
            }
        });
        if (!news.isEmpty()) {
            log.info("XA RECOVER on {} lists prepared branches that are not this deployment's (cluster {}): {}. They are left alone:"
                    + " another deployment recovers its own branches, and our coordinator cannot know their outcome.",
                    r, filter.cluster().map(ClusterId::value).orElse("not known"), String.join("; ", news));
        }
    }

    /**
     * Forgets where XA RECOVER found the xids of {@code r} that its latest listing no longer has
     * (finished by whoever held them), so periodic sweeps do not make {@link #foundOn} grow.
     */
    void retainFound(EnlistedResource r, Collection<TmXid> listed) {
        foundOn.entrySet().removeIf(e -> e.getValue() == r && !listed.contains(e.getKey()));
    }

    EnlistedResource foundOn(TmXid xid) {
        return foundOn.get(xid);
    }

    /** An XA COMMIT of {@code xid} was sent (on the connection that prepared it) and its answer was lost. */
    void commitUnanswered(TmXid xid) {
        commitsUnanswered.add(xid);
    }

    private boolean committedByUs(TmXid xid) {
        synchronized (committedHere) {
            return committedHere.contains(xid);
        }
    }

    /** Forgets what {@link #finish} kept about {@code xid}: phase 2 is over for it. */
    private void finished(TmXid xid) {
        foundOn.remove(xid);
        commitsUnanswered.remove(xid);
    }

    /** COMMIT or ROLLBACK by xid. */
    BranchAnswer finish(TmXid xid, boolean commit, EnlistedResource hint) {
        List<EnlistedResource> candidates = new ArrayList<>();
        EnlistedResource found = hint != null ? hint : foundOn.get(xid);
        if (found != null) {
            candidates.add(found);
        } else {
            for (EnlistedResource r : resources.get()) {
                if (r.supported()) {
                    candidates.add(r);
                }
            }
        }
        XaOperation op = commit ? XaOperation.COMMIT : XaOperation.ROLLBACK;
        for (EnlistedResource r : candidates) {
            // known to be prepared here: held by this agent (the hint), or listed by our last XA RECOVER
            boolean knownPrepared = r == hint || r == foundOn.get(xid);
            Optional<XidCalls.Session> opened = XidCalls.open(r, op, xid);
            if (opened.isEmpty()) {
                return BranchAnswer.NONE;
            }
            XidCalls.Session session = opened.get();
            XAResource xa = session.xa();
            try {
                session.finish(xid, commit);
                session.giveBack();
                finished(xid);
                if (commit) {
                    synchronized (committedHere) {
                        committedHere.add(xid);
                    }
                }
                log.info("Recovered branch {} on {}: {}", xid, r, commit ? "committed" : "rolled back");
                return BranchAnswer.DONE;
            } catch (XAException e) {
                XaErrorClassifier.Verdict v = XaErrorClassifier.classify(e, op);
                if (v == XaErrorClassifier.Verdict.ALREADY_DONE) {
                    if (e.errorCode == XAException.XAER_NOTA && XidCalls.stillListed(xa, xid)) {
                        // prepared, but bound to another live session (MariaDB): not ours to finish now
                        session.giveBack();
                        log.info("{} of {} on {}: still prepared by another session; will retry", op, xid, r);
                        return BranchAnswer.NONE;
                    }
                    session.giveBack();
                    if (commit && knownPrepared && !commitsUnanswered.contains(xid) && !committedByUs(xid)) {
                        finished(xid);
                        log.error("HEURISTIC HAZARD: COMMIT of branch {} by xid on {}: the branch was prepared there, and is gone"
                                + " although no commit of ours reached it (rolled back by hand?). Reported to the coordinator as"
                                + " HEURISTIC_HAZARD; the transaction needs an operator.", xid, r);
                        return BranchAnswer.HEURISTIC_HAZARD;
                    }
                    continue; // not on this resource (or already done there): look at the next one
                }
                if (v == XaErrorClassifier.Verdict.HEURISTIC) {
                    BranchAnswer answer = XaErrorClassifier.heuristicAnswer(e, op);
                    if (XaErrorClassifier.matchesDecision(answer, op)) {
                        XidCalls.forget(xa, xid, r);
                    }
                    session.giveBack();
                    log.error("HEURISTIC outcome for recovered branch {} on {}: {}; reported to the coordinator as {}", xid, r,
                            XaErrorClassifier.describe(e), answer);
                    finished(xid);
                    return answer;
                }
                if (commit && v == XaErrorClassifier.Verdict.RETRY) {
                    commitsUnanswered.add(xid); // it may have run before the connection failed
                }
                session.discard();
                log.warn("{} of {} by xid on {} failed ({}), will retry: {}", op, xid, r, v, XaErrorClassifier.describe(e));
                return BranchAnswer.NONE;
            }
        }
        finished(xid);
        // no resource has it prepared: the effect is in place (the coordinator sends COMMIT only
        // after a durable decision, and a branch that is gone without commit was rolled back)
        return BranchAnswer.DONE;
    }
}
