package dev.xatm.client.propagation;

import dev.xatm.client.TmException;
import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.XidMdc;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Joins an incoming request to the caller's global transaction named by a signed {@code TM-XID}
 * header (see {@link TmXidHeader}): for the request's duration the gtrid is bound to the thread, so
 * the service's enlisted data sources add their branches to it (registered with this service's own
 * agent id), until the caller's deadline that the header carries.
 *
 * <ul>
 *   <li>A header without a valid tag (none, forged, made with another key), an expired one, a
 *       malformed one, or one of another coordinator cluster gets 400 with a Problem Details body
 *       before any handler runs: the request is not joined and nothing is written. The refusal
 *       never echoes the tag.</li>
 *   <li>A request that ends with an exception or a 5xx status dooms this service's branches: they
 *       vote NO, and the global transaction rolls back even if the caller ignores the error.</li>
 *   <li>A coordinator refusal (unknown or finished transaction) becomes 409 with its message when
 *       the response is not yet committed; the branch was never started, so nothing was written.</li>
 * </ul>
 */
public final class TmXidServletFilter extends OncePerRequestFilter {
    private static final Logger log = LoggerFactory.getLogger(TmXidServletFilter.class);

    static final String PROBLEM_JSON = "application/problem+json";

    private final TmXidSigner signer;
    private final String gtridPrefix;
    private final Supplier<Optional<ClusterId>> cluster;

    public TmXidServletFilter(TmXidSigner signer, String gtridPrefix) {
        this(signer, gtridPrefix, Optional::empty);
    }

    /** @param cluster this service's deployment, as its tm-servers named it (empty while not known) */
    public TmXidServletFilter(TmXidSigner signer, String gtridPrefix, Supplier<Optional<ClusterId>> cluster) {
        this.signer = signer;
        this.gtridPrefix = gtridPrefix;
        this.cluster = cluster;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader(TmXidHeader.NAME);
        if (header == null) {
            chain.doFilter(request, response);
            return;
        }
        TmXidSigner.Verdict verdict = signer.check(header, gtridPrefix, cluster.get());
        if (verdict instanceof TmXidSigner.Verdict.Refuse refuse) {
            log.info("Refused {} {}: {}", request.getMethod(), request.getRequestURI(), refuse.reason());
            writeProblem(response, HttpServletResponse.SC_BAD_REQUEST, "Bad Request", refuse.reason());
            return;
        }
        TmXidSigner.Verdict.Join join = (TmXidSigner.Verdict.Join) verdict;
        String gtrid = join.gtrid();
        // the caller's deadline, not "forever": past it, this scope refuses database work as the caller's does
        TxScope scope = new TxScope(gtrid, false, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(join.remainingMillis()));
        TxScope previous = GlobalTxContext.bind(scope);
        XidMdc.Scope mdc = XidMdc.put(gtrid);
        boolean failed = true;
        try {
            chain.doFilter(request, response);
            failed = response.getStatus() >= 500;
        } catch (ServletException | RuntimeException e) {
            TmException tm = tmCause(e);
            if (tm != null && !response.isCommitted()) {
                log.info("{} {} in global transaction {} failed: {}", request.getMethod(), request.getRequestURI(), gtrid, tm.getMessage());
                writeProblem(response, HttpServletResponse.SC_CONFLICT, "Conflict", tm.getMessage());
                return;
            }
            throw e;
        } finally {
            GlobalTxContext.bind(previous);
            scope.end(failed || scope.isRollbackOnly());
            mdc.close();
        }
    }

    private static TmException tmCause(Throwable t) {
        for (int i = 0; t != null && i < 10; t = t.getCause(), i++) {
            if (t instanceof TmException tm) {
                return tm;
            }
        }
        return null;
    }

    /**
     * An RFC 9457 Problem Details body, as tm-server answers its errors ({@code about:blank} and the
     * status's reason phrase as title; the reason in {@code detail}). Written by hand: the starter
     * cannot count on a JSON library in the application, and four string members need none.
     */
    private static void writeProblem(HttpServletResponse response, int status, String title, String detail) throws IOException {
        response.setStatus(status);
        response.setContentType(PROBLEM_JSON);
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.getWriter().write("{\"type\":\"about:blank\",\"title\":\"" + json(title) + "\",\"status\":" + status
                + ",\"detail\":\"" + json(detail) + "\"}");
    }

    private static String json(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> sb.append(c < 0x20 ? ' ' : c);
            }
        }
        return sb.toString();
    }
}
