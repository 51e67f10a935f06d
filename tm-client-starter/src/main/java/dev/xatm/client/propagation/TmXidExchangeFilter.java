package dev.xatm.client.propagation;

import dev.xatm.client.context.GlobalTxContext;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.ExchangeFunction;
import reactor.core.publisher.Mono;

/**
 * Adds {@code TM-XID} to WebClient requests. The gtrid is read when the request is assembled, on the
 * thread that builds it: a WebClient call made (and blocked on, or subscribed to) from the
 * transaction's thread carries it; work hopping to other threads before the exchange does not.
 */
public final class TmXidExchangeFilter implements ExchangeFilterFunction {
    @Override
    public Mono<ClientResponse> filter(ClientRequest request, ExchangeFunction next) {
        String gtrid = GlobalTxContext.gtridForPropagation();
        if (gtrid == null || request.headers().containsHeader(TmXidHeader.NAME)) {
            return next.exchange(request);
        }
        return next.exchange(ClientRequest.from(request).header(TmXidHeader.NAME, gtrid).build());
    }
}
