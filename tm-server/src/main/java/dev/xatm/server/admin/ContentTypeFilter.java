package dev.xatm.server.admin;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;

/**
 * Refuses, with 415 and a Problem Details document, a request whose {@code Content-Type} header is
 * not a concrete media type: unparseable ({@code "json"}, {@code ";"}), a wildcard ({@code *}{@code /*},
 * {@code application/*}), or naming a charset this JVM does not have. Spring MVC assumes the header is
 * well formed once it reads a body: a wildcard made it throw IllegalArgumentException from inside
 * an Actuator endpoint, which came out as 500 (found by the admin API fuzz test). Checked once, in
 * front of every path, so no handler ever sees such a header. Nothing of the header is echoed.
 * Stateless and thread-safe.
 */
final class ContentTypeFilter extends OncePerRequestFilter {

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String type = request.getContentType();
        if (type == null || concrete(type)) {
            chain.doFilter(request, response);
            return;
        }
        Problems.write(response, Problems.of(415, "unsupported_media_type",
                "the Content-Type header is not a concrete media type with a known charset; send application/json"));
    }

    static boolean concrete(String type) {
        try {
            MediaType parsed = MediaType.parseMediaType(type);
            if (parsed.isWildcardType() || parsed.isWildcardSubtype()) {
                return false;
            }
            String charset = parsed.getParameter("charset");
            return charset == null || Charset.isSupported(charset.replace("\"", ""));
        } catch (InvalidMediaTypeException | IllegalCharsetNameException e) {
            return false;
        }
    }
}
