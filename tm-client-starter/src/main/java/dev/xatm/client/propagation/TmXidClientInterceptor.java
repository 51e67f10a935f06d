package dev.xatm.client.propagation;

import dev.xatm.client.context.GlobalTxContext;
import org.springframework.http.HttpRequest;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;

import java.io.IOException;

/**
 * Adds {@code TM-XID} to outgoing RestTemplate and RestClient requests made inside a global
 * transaction, so the service called joins it. Stateless, thread-safe.
 */
public final class TmXidClientInterceptor implements ClientHttpRequestInterceptor {
    @Override
    public ClientHttpResponse intercept(HttpRequest request, byte[] body, ClientHttpRequestExecution execution) throws IOException {
        String gtrid = GlobalTxContext.gtridForPropagation();
        if (gtrid != null && !request.getHeaders().containsHeader(TmXidHeader.NAME)) {
            request.getHeaders().set(TmXidHeader.NAME, gtrid);
        }
        return execution.execute(request, body);
    }
}
