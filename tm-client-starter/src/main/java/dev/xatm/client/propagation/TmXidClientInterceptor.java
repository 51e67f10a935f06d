package dev.xatm.client.propagation;

import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import org.springframework.http.HttpRequest;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;

import java.io.IOException;

/**
 * Adds a signed {@code TM-XID} (gtrid, deadline, tag: see {@link TmXidHeader}) to outgoing
 * RestTemplate and RestClient requests made inside a global transaction, so the service called joins
 * it. The starter offers one as a bean for clients built by hand. Thread-safe.
 */
public final class TmXidClientInterceptor implements ClientHttpRequestInterceptor {
    private final TmXidSigner signer;

    public TmXidClientInterceptor(TmXidSigner signer) {
        this.signer = signer;
    }

    @Override
    public ClientHttpResponse intercept(HttpRequest request, byte[] body, ClientHttpRequestExecution execution) throws IOException {
        if (!request.getHeaders().containsHeader(TmXidHeader.NAME)) {
            TxScope scope = GlobalTxContext.scopeForPropagation();
            if (scope != null) {
                request.getHeaders().set(TmXidHeader.NAME, signer.headerValue(scope));
            }
        }
        return execution.execute(request, body);
    }
}
