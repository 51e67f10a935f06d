package dev.xatm.server.admin;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.io.IOException;

/**
 * Replaces Spring Boot's whitelabel/JSON error page for the whole HTTP server: whatever ends in an
 * error dispatch (an unknown path, a wrong method, a request the container refused) is answered
 * with an {@link ApiError}, never with a stack trace or a framework's own error format.
 */
@RestController
public class AdminErrorController implements ErrorController {

    @RequestMapping("${server.error.path:${error.path:/error}}")
    public void error(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        int status = code instanceof Integer i ? i : 500;
        if (status < 400) {
            status = 500;
        }
        ErrorWriter.write(response, status, ErrorWriter.errorCode(status), message(status));
    }

    /** A fixed sentence per status: nothing of the request is echoed. */
    static String message(int status) {
        return switch (status) {
            case 400 -> "the request is malformed";
            case 401 -> "a valid bearer token is required";
            case 404 -> "no such resource; the admin API lives under /api/v1/transactions, its description at /v3/api-docs";
            case 405 -> "this method is not allowed on this resource";
            case 406 -> "only application/json is served";
            case 413 -> "the request body is too large";
            case 414 -> "the request line is too long";
            case 415 -> "the request body must be application/json";
            default -> status >= 500 ? "internal error; see the server log" : "the request was refused";
        };
    }
}
