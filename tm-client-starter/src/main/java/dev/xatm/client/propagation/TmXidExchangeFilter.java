package dev.xatm.client.propagation;

import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.ExchangeFunction;
import reactor.core.publisher.Mono;

/**
 * Adds a signed {@code TM-XID} (gtrid, deadline, tag: see {@link TmXidHeader}) to WebClient
 * requests. The transaction is read when the request is assembled, on the thread that builds it: a
 * WebClient call made (and blocked on, or subscribed to) from the transaction's thread carries it;
 * work hopping to other threads before the exchange does not. The starter offers one as a bean for
 * clients built by hand. Thread-safe.
 */
public final class TmXidExchangeFilter implements ExchangeFilterFunction {
    private final TmXidSigner signer;

    public TmXidExchangeFilter(TmXidSigner signer) {
        this.signer = signer;
    }

    @Override
    public Mono<ClientResponse> filter(ClientRequest request, ExchangeFunction next) {
        if (request.headers().containsHeader(TmXidHeader.NAME)) {
            return next.exchange(request);
        }
        TxScope scope = GlobalTxContext.scopeForPropagation();
        if (scope == null) {
            return next.exchange(request);
        }
        return next.exchange(ClientRequest.from(request).header(TmXidHeader.NAME, signer.headerValue(scope)).build());
    }
}
