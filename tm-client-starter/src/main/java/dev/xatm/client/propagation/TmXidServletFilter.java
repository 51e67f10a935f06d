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
import java.util.function.Supplier;

/**
 * Joins an incoming request to the caller's global transaction named by {@code TM-XID}: for the
 * request's duration the gtrid is bound to the thread, so the service's enlisted data sources add
 * their branches to it (registered with this service's own agent id).
 *
 * <ul>
 *   <li>A malformed header, or one of another coordinator cluster, gets 400 with a clear message
 *       before any handler runs: nothing is written.</li>
 *   <li>A request that ends with an exception or a 5xx status dooms this service's branches: they
 *       vote NO, and the global transaction rolls back even if the caller ignores the error.</li>
 *   <li>A coordinator refusal (unknown or finished transaction) becomes 409 with its message when
 *       the response is not yet committed; the branch was never started, so nothing was written.</li>
 * </ul>
 */
public final class TmXidServletFilter extends OncePerRequestFilter {
    private static final Logger log = LoggerFactory.getLogger(TmXidServletFilter.class);

    private final String gtridPrefix;
    private final Supplier<Optional<ClusterId>> cluster;

    public TmXidServletFilter(String gtridPrefix) {
        this(gtridPrefix, Optional::empty);
    }

    /** @param cluster this service's deployment, as its tm-servers named it (empty while not known) */
    public TmXidServletFilter(String gtridPrefix, Supplier<Optional<ClusterId>> cluster) {
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
        String problem = TmXidHeader.problem(header, gtridPrefix, cluster.get());
        if (problem != null) {
            log.info("Refused {} {}: {}", request.getMethod(), request.getRequestURI(), problem);
            writeError(response, HttpServletResponse.SC_BAD_REQUEST, problem);
            return;
        }
        TxScope scope = new TxScope(header, false, Long.MAX_VALUE);
        TxScope previous = GlobalTxContext.bind(scope);
        XidMdc.Scope mdc = XidMdc.put(header);
        boolean failed = true;
        try {
            chain.doFilter(request, response);
            failed = response.getStatus() >= 500;
        } catch (ServletException | RuntimeException e) {
            TmException tm = tmCause(e);
            if (tm != null && !response.isCommitted()) {
                log.info("{} {} in global transaction {} failed: {}", request.getMethod(), request.getRequestURI(), header, tm.getMessage());
                writeError(response, HttpServletResponse.SC_CONFLICT, tm.getMessage());
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

    private static void writeError(HttpServletResponse response, int status, String message) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.getWriter().write("{\"status\":" + status + ",\"error\":\"" + json(message) + "\"}");
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
