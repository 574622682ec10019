"""Which handler takes which message type, and how an envelope becomes an outgoing message."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from contracts.envelope import Envelope
from contracts.registry import Decoded, encode
from hub.core.flows.acquisition import handle_acquisition_request, handle_acquisition_result
from hub.core.flows.context import HandlerContext
from hub.core.flows.dependants import handle_dependants_declaration
from hub.core.flows.eltax import (
    handle_eltax_receipt,
    handle_payment_report_request,
    handle_tokucho_inbound,
    handle_tokucho_notice_request,
)
from hub.core.flows.intermediate_server import (
    handle_code_acquisition,
    handle_code_acquisition_result,
    handle_duplicate_change,
    handle_duplicate_result,
    handle_info_query,
    handle_info_query_result,
    handle_provision_notice,
    handle_refused_queries,
)
from hub.core.flows.survival import (
    handle_jlis_result,
    handle_survival_request,
    prefetch_jlis_results,
    prefetch_survival_requests,
)
from hub.core.runtime.retry import Exchanges
from hub.ports.transport import OutgoingMessage

__all__ = ["HANDLERS", "PREFETCHERS", "Handler", "Prefetcher", "to_outgoing"]

Handler = Callable[[Decoded, HandlerContext], list[Envelope]]
Prefetcher = Callable[[Sequence[Decoded], HandlerContext], None]

HANDLERS: Mapping[tuple[str, int], Handler] = {
    ("pension.survival_inquiry.requested", 1): handle_survival_request,
    ("jlis.survival_change.result", 1): handle_jlis_result,
    ("pension.number_acquisition.requested", 1): handle_acquisition_request,
    ("jlis.number_acquisition.result", 1): handle_acquisition_result,
    ("pension.dependants_declaration.submitted", 1): handle_dependants_declaration,
    ("pension.payment_report.requested", 1): handle_payment_report_request,
    ("pension.tokucho.notice_requested", 1): handle_tokucho_notice_request,
    ("eltax.receipt", 1): handle_eltax_receipt,
    ("eltax.tokucho.inbound", 1): handle_tokucho_inbound,
    ("pension.code_acquisition.requested", 1): handle_code_acquisition,
    ("intermediate_server.code_acquisition.result", 1): handle_code_acquisition_result,
    ("pension.info_query.requested", 1): handle_info_query,
    ("intermediate_server.info_query.result", 1): handle_info_query_result,
    ("hub.info_query.refused", 1): handle_refused_queries,
    ("pension.duplicate_data.changed", 1): handle_duplicate_change,
    ("intermediate_server.duplicate.result", 1): handle_duplicate_result,
    ("intermediate_server.provision.notice", 1): handle_provision_notice,
}
"""Message types the hub handles on its ingress; anything else is dead-lettered as unknown."""

PREFETCHERS: Mapping[tuple[str, int], Prefetcher] = {
    ("pension.survival_inquiry.requested", 1): prefetch_survival_requests,
    ("jlis.survival_change.result", 1): prefetch_jlis_results,
}
"""Message types whose people the worker looks up for a whole batch at once, before their handlers run.

A prefetcher only reads (and records tokens), so that the handlers find what they need in the unit of
work's memory; it never decides anything. Bulk flows that handle many small messages belong here.
"""


def to_outgoing(envelope: Envelope, exchanges: Exchanges) -> OutgoingMessage:
    """Address an envelope: to an adapter through the route exchange, to the hub through ingress."""
    if envelope.destination == "hub":
        exchange, key = exchanges.ingress, "hub"
    else:
        exchange, key = exchanges.route, envelope.destination
    return OutgoingMessage(
        exchange=exchange,
        routing_key=key,
        body=encode(envelope),
        message_id=str(envelope.message_id),
        message_type=envelope.message_type,
        correlation_id=str(envelope.correlation_id),
    )
