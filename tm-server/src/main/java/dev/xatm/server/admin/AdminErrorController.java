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
 * with a Problem Details document ({@link Problems}), never with a stack trace or a framework's own error format.
 */
@RestController
public class AdminErrorController implements ErrorController {

    @RequestMapping("${server.error.path:${error.path:/error}}")
    public void error(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        if (code == null) {
            // Not an error dispatch: a client asked for /error itself, a path like any other that holds
            // nothing (found by the admin API fuzz test, which got 500 here).
            Problems.write(response, Problems.of(404));
            return;
        }
        int status = code instanceof Integer i ? i : 500;
        if (status < 400) {
            status = 500;
        }
        Problems.write(response, Problems.of(status));
    }
}
