package dev.xatm.server.admin;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.Ids;
import dev.xatm.core.Reply;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.view.BranchView;
import dev.xatm.core.view.TxnDetail;
import dev.xatm.core.view.TxnPage;
import dev.xatm.core.view.TxnQuery;
import dev.xatm.core.view.TxnViews;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.coordinator.cluster.Cluster;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.coordinator.engine.CoordinatorUnavailableException;
import dev.xatm.coordinator.log.OperatorAction;
import dev.xatm.server.recovery.RecoveryConnections;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The admin REST API: list, detail, in-doubt list, and an operator's forced commit,
 * rollback and forget. Thin on purpose: it validates the input, turns it into a query or an operator
 * event for the {@link CoordinatorLoop}, and maps the answer to JSON. The core is read and changed
 * on the loop thread only (queries and events are queued like every other request), so the API can
 * neither race the protocol nor see a half-applied step.
 *
 * <p>Every refusal is a Problem Details document ({@link Problems}): malformed input 400, unknown xid 404, a forced outcome
 * that contradicts a decision 409, an oversized body 413, a coordinator that is overloaded or stopping 503.
 */
@RestController
@RequestMapping(path = "/api/v1/transactions", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "transactions", description = "Inspect global transactions and resolve in-doubt ones")
public class AdminApiController {
    private static final Logger log = LoggerFactory.getLogger(AdminApiController.class);
    static final int DEFAULT_LIMIT = 100;
    static final String TOTAL_COUNT = "X-Total-Count";
    private static final long CALL_TIMEOUT_MILLIS = 10_000;
    private static final String STATUSES = Arrays.stream(TxnStatus.values()).filter(s -> s != TxnStatus.UNKNOWN)
            .map(Enum::name).collect(Collectors.joining(", "));

    private final CoordinatorLoop loop;
    private final RecoveryConnections recovery;
    private final long inDoubtAfterMillis;
    private final AdminJson.Times times;

    private final Cluster cluster;
    private final OperatorHistory journal;

    public AdminApiController(CoordinatorLoop loop, AdminSettings settings, RecoveryConnections recovery, Cluster cluster,
                              OperatorHistory journal) {
        this.loop = loop;
        this.journal = journal;
        this.cluster = cluster;
        this.recovery = recovery;
        this.inDoubtAfterMillis = settings.inDoubtAfterMillis();
        this.times = new AdminJson.Times(loop::toEpochMillis, settings.ownerNode());
    }

    @GetMapping
    @Operation(summary = "List transactions, newest first",
            description = "Live, held (heuristic) and remembered finished transactions, most recently begun (or restored) first,"
                    + " filtered by status, protocol, name and minimum age. The header X-Total-Count holds how many match."
                    + " Without cursor the body is a bare array of at most limit items (as before); with cursor (empty for the"
                    + " first page) it is {items, nextCursor, total}, and nextCursor (null on the last page) asks for the next page.")
    @ApiResponse(responseCode = "200", description = "a bare array of transactions, or with cursor a page {items, nextCursor, total}",
            headers = @io.swagger.v3.oas.annotations.headers.Header(name = TOTAL_COUNT, description = "how many transactions match",
                    schema = @Schema(type = "integer")),
            content = @Content(schema = @Schema(oneOf = {AdminJson.Transaction[].class, AdminJson.Page.class})))
    public ResponseEntity<Object> list(
            @Parameter(description = "only this status (ACTIVE, PREPARING, COMMITTING, ROLLING_BACK, FINISHED_*)") @RequestParam(required = false) String status,
            @Parameter(description = "1.." + TxnViews.MAX_LIMIT + ", default " + DEFAULT_LIMIT) @RequestParam(required = false) String limit,
            @Parameter(description = "only this protocol: 2PC or 3PC") @RequestParam(required = false) String protocol,
            @Parameter(description = "only transactions begun with exactly this name") @RequestParam(required = false) String name,
            @Parameter(description = "only transactions begun at least this many milliseconds ago") @RequestParam(required = false) String minAgeMs,
            @Parameter(description = "empty for the first page, else a nextCursor; asks for the {items, nextCursor, total} envelope")
            @RequestParam(required = false) String cursor) {
        TxnQuery query = new TxnQuery(status(status), protocol(protocol), name(name), minAge(minAgeMs));
        int n = limit(limit);
        long before = cursor == null ? Long.MAX_VALUE : ListCursor.decode(cursor);
        TxnPage page = await(loop.query(v -> v.page(query, before, n)));
        List<AdminJson.Transaction> items = page.items().stream().map(times::transaction).toList();
        Object body = cursor == null ? items
                : new AdminJson.Page(items, page.next() < 0 ? null : ListCursor.encode(page.next()), page.total());
        return ResponseEntity.ok().header(TOTAL_COUNT, Integer.toString(page.total())).body(body);
    }

    @GetMapping("/in-doubt")
    @Operation(summary = "Transactions that need an operator",
            description = "Outcome not applied to every branch for tm.server.in-doubt-after-ms or longer, a pending branch whose"
                    + " agent is gone, or a heuristic outcome (or one-phase hazard) not yet forgotten. Newest first.")
    public List<AdminJson.InDoubt> inDoubt(@RequestParam(required = false) String limit) {
        int n = limit(limit);
        return await(loop.query(v -> v.inDoubt(inDoubtAfterMillis, n))).stream().map(times::inDoubt).toList();
    }

    @GetMapping("/{xid}")
    @Operation(summary = "One transaction: status, timestamps, deadline, branches, in-doubt reasons and history")
    @ApiResponse(responseCode = "404", description = "the coordinator does not know this xid (presumed rolled back)",
            content = @Content(schema = @Schema(implementation = ProblemDetail.class)))
    public AdminJson.TransactionDetail detail(@PathVariable String xid) {
        String gtrid = xid(xid);
        List<OperatorAction> actions = journal.of(gtrid);
        return await(loop.query(v -> v.detail(gtrid, inDoubtAfterMillis)))
                .map(d -> times.detail(d, actions))
                .or(() -> actions.isEmpty() ? Optional.empty() : Optional.of(times.forgotten(gtrid, actions)))
                .orElseThrow(() -> ApiException.notFound("transaction " + gtrid + " is not known to this coordinator: never begun,"
                        + " forgotten, or lost in a restart before a commit decision (presumed rolled back)" + owner(gtrid)));
    }

    /**
     * On a shared store, where a gtrid held by no server here may be another server's: names its
     * owner and, while that one holds a lease, where its admin API is.
     */
    private String owner(String gtrid) {
        Optional<GtridOwner> owner = GtridOwner.of(gtrid);
        if (owner.isEmpty() || cluster.self().isEmpty() || owner.equals(cluster.self())) {
            return "";
        }
        int node = owner.get().nodeId();
        return cluster.members().stream().filter(m -> m.nodeId() == node).findFirst()
                .map(m -> "; it belongs to " + owner.get() + ", a live server (gRPC " + m.address() + ", epoch " + m.epoch()
                        + "): ask its admin API")
                .orElse("; it belongs to " + owner.get() + ", which holds no lease now: a transaction of it that was decided"
                        + " was adopted by a survivor (see the survivors' admin APIs), anything else rolls back");
    }

    @PostMapping("/{xid}/commit")
    @Operation(summary = "Force phase 2 of a durably committed transaction now",
            description = "Resends COMMIT to every branch still pending (through the agent holding it). Refused (409) for any"
                    + " transaction without a durable COMMIT decision: under presumed abort an undecided transaction may be rolled back at any time.")
    @ApiResponse(responseCode = "409", description = "it would contradict a decision", content = @Content(schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "403", description = "the token has the read role only: forcing needs the resolve role", content = @Content(schema = @Schema(implementation = ProblemDetail.class)))
    public AdminJson.Resolution commit(@PathVariable String xid, @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false,
            content = @Content(schema = @Schema(implementation = AdminJson.OperatorBody.class))) HttpServletRequest request) {
        String gtrid = xid(xid);
        OperatorRequest operator = OperatorRequest.read(request);
        return resolve(new Event.ForceCommit(gtrid, operator.operator()), "commit", gtrid, operator);
    }

    @PostMapping("/{xid}/rollback")
    @Operation(summary = "Roll back an undecided transaction",
            description = "Allowed while no COMMIT decision exists (ACTIVE, PREPARING) and for one already rolling back (resends"
                    + " ROLLBACK now). Refused (409) once a COMMIT decision is durable, and during a one-phase commit.")
    @ApiResponse(responseCode = "409", description = "it would contradict a decision", content = @Content(schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "403", description = "the token has the read role only: forcing needs the resolve role", content = @Content(schema = @Schema(implementation = ProblemDetail.class)))
    public AdminJson.Resolution rollback(@PathVariable String xid, @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false,
            content = @Content(schema = @Schema(implementation = AdminJson.OperatorBody.class))) HttpServletRequest request) {
        String gtrid = xid(xid);
        OperatorRequest operator = OperatorRequest.read(request);
        return resolve(new Event.ForceRollback(gtrid, operator.operator()), "rollback", gtrid, operator);
    }

    @PostMapping("/{xid}/forget")
    @Operation(summary = "Acknowledge a heuristic outcome (or hazard) after reconciling the databases by hand",
            description = "Only for FINISHED_HEURISTIC and FINISHED_HEURISTIC_HAZARD: it leaves the in-doubt list and is remembered like"
                    + " any finished transaction. Refused (409) for anything else.")
    @ApiResponse(responseCode = "409", description = "not a heuristic outcome", content = @Content(schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "403", description = "the token has the read role only: forcing needs the resolve role", content = @Content(schema = @Schema(implementation = ProblemDetail.class)))
    public AdminJson.Resolution forget(@PathVariable String xid, @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false,
            content = @Content(schema = @Schema(implementation = AdminJson.OperatorBody.class))) HttpServletRequest request) {
        String gtrid = xid(xid);
        OperatorRequest operator = OperatorRequest.read(request);
        return resolve(new Event.Forget(gtrid, operator.operator()), "forget", gtrid, operator);
    }

    @ExceptionHandler(ApiException.class)
    void refused(ApiException e, HttpServletResponse response) throws IOException {
        Problems.write(response, Problems.of(e.status, e.error, e.getMessage()));
    }

    /**
     * What Spring itself refuses while binding a request to a method here (a missing or unconvertible
     * parameter, say) keeps its 4xx; anything else is a bug of ours, logged and answered 500.
     */
    @ExceptionHandler(Exception.class)
    void failed(Exception e, HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (e instanceof ErrorResponse refusal && refusal.getStatusCode().is4xxClientError()) {
            Problems.write(response, Problems.of(refusal.getStatusCode().value()));
            return;
        }
        log.error("Admin API {} failed", request.getRequestURI(), e);
        Problems.write(response, Problems.of(500));
    }

    // ---------------------------------------------------------------- helpers

    private AdminJson.Resolution resolve(Event event, String request, String gtrid, OperatorRequest operator) {
        Reply reply = await(loop.operator(event));
        if (reply instanceof Reply.Resolved ok) {
            String message = ok.message();
            if (event instanceof Event.ForceCommit || event instanceof Event.ForceRollback) {
                message += throughRecoveryConnections(gtrid, event instanceof Event.ForceCommit ? Action.COMMIT : Action.ROLLBACK);
            }
            log.warn("Operator '{}' forced {} of {}: now {}; {}", operator.operator(), request, gtrid, ok.status(), message);
            journal.record(gtrid, operator, request, true, ok.status() + ": " + message);
            return new AdminJson.Resolution(gtrid, request, operator.operator(), ok.status().name(), message);
        }
        if (reply instanceof Reply.Rejected no) {
            log.warn("Operator '{}' asked to force {} of {}: refused, {}", operator.operator(), request, gtrid, no.message());
            if (no.code() == ErrorCode.FAILED_PRECONDITION) {
                journal.record(gtrid, operator, request, false, "refused: " + no.message());
            }
            throw switch (no.code()) {
                case NOT_FOUND -> ApiException.notFound(no.message());
                case FAILED_PRECONDITION -> ApiException.conflict(no.message());
                case INVALID_ARGUMENT -> ApiException.badRequest(no.message());
                default -> ApiException.unavailable(no.message());
            };
        }
        throw new IllegalStateException("unexpected reply " + reply);
    }

    /**
     * The branches still waiting for {@code action} whose agent is gone (or not seen since a restart)
     * are finished through the server's own connection to their database, when one is configured, and
     * the result is fed back to the core as that branch's acknowledgement. The core decided which
     * command is pending; this only carries it out, so it can never contradict the decision.
     */
    private String throughRecoveryConnections(String gtrid, Action action) {
        TxnDetail detail = await(loop.query(v -> v.detail(gtrid, inDoubtAfterMillis))).orElse(null);
        if (detail == null) {
            return "";
        }
        List<String> notes = new ArrayList<>();
        for (BranchView b : detail.branches()) {
            if (b.pending() != action || b.agentState() == BranchView.AgentState.CONNECTED || !recovery.has(b.resourceId())) {
                continue;
            }
            RecoveryConnections.Attempt attempt = recovery.complete(b.resourceId(), gtrid, b.bqual(), action);
            if (attempt.done()) {
                // The server finished the branch itself, for its absent holder: it acknowledges in that agent's name.
                loop.offerAgentMessage(new Event.AckReceived(gtrid, b.bqual(), action, AckResult.DONE, b.agentId()), r -> { });
            }
            notes.add(b.bqual() + ": " + attempt.detail());
        }
        return notes.isEmpty() ? "" : "; " + String.join("; ", notes);
    }

    private static <T> T await(CompletableFuture<T> pending) {
        try {
            return pending.get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            pending.cancel(false);
            throw ApiException.unavailable("the coordinator did not answer within " + CALL_TIMEOUT_MILLIS + " ms; try again");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("interrupted; try again");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CoordinatorUnavailableException u) {
                throw ApiException.unavailable(u.getMessage());
            }
            if (e.getCause() instanceof IllegalArgumentException bad) {
                throw ApiException.badRequest(bad.getMessage());
            }
            throw new IllegalStateException("admin query failed", e.getCause());
        }
    }

    private static String xid(String xid) {
        if (!Ids.isValidId(xid)) {
            throw ApiException.badRequest("xid must be a gtrid of 1.." + Ids.MAX_ID_BYTES + " characters of [A-Za-z0-9._:-], got "
                    + Ids.quote(xid));
        }
        return xid;
    }

    private static TxnStatus status(String status) {
        if (status == null || status.isEmpty()) {
            return null;
        }
        try {
            TxnStatus s = TxnStatus.valueOf(status.trim().toUpperCase(Locale.ROOT));
            if (s != TxnStatus.UNKNOWN) {
                return s;
            }
        } catch (IllegalArgumentException e) {
            // falls through to the refusal below
        }
        throw ApiException.badRequest("status must be one of " + STATUSES + ", got " + Ids.quote(status));
    }

    private static String protocol(String protocol) {
        if (protocol == null || protocol.isEmpty()) {
            return null;
        }
        String p = protocol.trim().toUpperCase(Locale.ROOT);
        if (p.equals("2PC") || p.equals("3PC")) {
            return p;
        }
        throw ApiException.badRequest("protocol must be 2PC or 3PC, got " + Ids.quote(protocol));
    }

    private static String name(String name) {
        if (name == null || name.isEmpty()) {
            return null;
        }
        if (name.length() > Ids.MAX_NAME_CHARS) {
            throw ApiException.badRequest("name must be at most " + Ids.MAX_NAME_CHARS + " characters");
        }
        return name;
    }

    private static long minAge(String minAgeMs) {
        if (minAgeMs == null || minAgeMs.isEmpty()) {
            return 0;
        }
        try {
            long ms = Long.parseLong(minAgeMs.trim());
            if (ms >= 0) {
                return ms;
            }
        } catch (NumberFormatException e) {
            // falls through to the refusal below
        }
        throw ApiException.badRequest("minAgeMs must be a whole number of milliseconds >= 0, got " + Ids.quote(minAgeMs));
    }

    private static int limit(String limit) {
        if (limit == null || limit.isEmpty()) {
            return DEFAULT_LIMIT;
        }
        try {
            int n = Integer.parseInt(limit.trim());
            if (n >= 1 && n <= TxnViews.MAX_LIMIT) {
                return n;
            }
        } catch (NumberFormatException e) {
            // falls through to the refusal below
        }
        throw ApiException.badRequest("limit must be an integer 1.." + TxnViews.MAX_LIMIT + ", got " + Ids.quote(limit));
    }
}
