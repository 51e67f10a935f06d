package dev.xatm.sample.order;

import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.server.ResponseStatusException;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Every failure of the API as a small JSON object: {@code error} (a stable code for programs),
 * {@code message} (for people), and what else the caller can use (the order id and xid of a
 * rolled-back order, so it can be looked up).
 */
@RestControllerAdvice
class ApiErrors {
    private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

    @ExceptionHandler(InvalidOrderException.class)
    ResponseEntity<Map<String, Object>> invalid(InvalidOrderException e) {
        return body(HttpStatus.BAD_REQUEST, "invalid_request", e.getMessage());
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<Map<String, Object>> unreadable(HttpMessageNotReadableException e) {
        return body(HttpStatus.BAD_REQUEST, "invalid_request", UnreadableBody.explain(e));
    }

    // The two below answer before any controller runs; without them Spring's own error page shape
    // would answer, and a client would have to parse two shapes.

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    ResponseEntity<Map<String, Object>> unsupportedMediaType(HttpMediaTypeNotSupportedException e, HttpServletRequest request) {
        MediaType sent = e.getContentType();
        ResponseEntity<Map<String, Object>> r = body(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                request.getMethod() + " " + request.getRequestURI() + " takes Content-Type: application/json, got "
                        + (sent == null ? "none" : sent.getType() + "/" + sent.getSubtype()) + " (curl: -H 'Content-Type: application/json')");
        return ResponseEntity.status(r.getStatusCode()).headers(h -> h.setAccept(e.getSupportedMediaTypes())).body(r.getBody());
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    ResponseEntity<Map<String, Object>> methodNotAllowed(HttpRequestMethodNotSupportedException e, HttpServletRequest request) {
        Set<HttpMethod> allowed = e.getSupportedHttpMethods() == null ? Set.of() : e.getSupportedHttpMethods();
        ResponseEntity<Map<String, Object>> r = body(HttpStatus.METHOD_NOT_ALLOWED, "method_not_allowed",
                request.getMethod() + " is not allowed on " + request.getRequestURI() + "; allowed: "
                        + allowed.stream().map(HttpMethod::name).sorted().collect(Collectors.joining(", ")));
        return ResponseEntity.status(r.getStatusCode()).headers(h -> h.setAllow(allowed)).body(r.getBody());
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<Map<String, Object>> badPath(MethodArgumentTypeMismatchException e) {
        return body(HttpStatus.BAD_REQUEST, "invalid_request", e.getName() + " must be a whole number");
    }

    @ExceptionHandler(ResponseStatusException.class)
    ResponseEntity<Map<String, Object>> status(ResponseStatusException e) {
        HttpStatus s = HttpStatus.valueOf(e.getStatusCode().value());
        return body(s, s == HttpStatus.NOT_FOUND ? "not_found" : "error", e.getReason());
    }

    @ExceptionHandler(OutOfStockException.class)
    ResponseEntity<Map<String, Object>> outOfStock(OutOfStockException e) {
        ResponseEntity<Map<String, Object>> r = body(HttpStatus.CONFLICT, "out_of_stock",
                e.getMessage() + "; the order row and the stock change were rolled back on both shards");
        r.getBody().put("productId", e.productId);
        r.getBody().put("requested", e.requested);
        r.getBody().put("available", e.available);
        r.getBody().put("orderId", e.orderId);
        r.getBody().put("xid", e.xid);
        return r;
    }

    @ExceptionHandler(UnknownProductException.class)
    ResponseEntity<Map<String, Object>> unknownProduct(UnknownProductException e) {
        ResponseEntity<Map<String, Object>> r = body(HttpStatus.NOT_FOUND, "unknown_product",
                e.getMessage() + "; the order row was rolled back");
        r.getBody().put("productId", e.productId);
        r.getBody().put("orderId", e.orderId);
        r.getBody().put("xid", e.xid);
        return r;
    }

    @ExceptionHandler(OrderNotPlacedException.class)
    ResponseEntity<Map<String, Object>> notPlaced(OrderNotPlacedException e) {
        boolean unknown = e.outcome == OrderNotPlacedException.Outcome.UNKNOWN;
        log.warn("order {} not placed ({}): {}", e.orderId, e.outcome, e.getMessage());
        ResponseEntity<Map<String, Object>> r = body(HttpStatus.SERVICE_UNAVAILABLE, unknown ? "outcome_unknown" : "rolled_back",
                unknown ? "the order's global transaction did not finish here (" + e.getMessage() + "); GET /orders/" + e.orderId
                        + " shows whether the coordinator committed it"
                        : (e.xid == null ? "the order's global transaction could not begin" : "the order's global transaction was rolled back")
                                + ", nothing was written (" + e.getMessage() + ")");
        r.getBody().put("orderId", e.orderId);
        r.getBody().put("xid", e.xid);
        return r;
    }

    private static ResponseEntity<Map<String, Object>> body(HttpStatus status, String error, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error);
        body.put("message", message);
        return ResponseEntity.status(status).body(body);
    }
}
