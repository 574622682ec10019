"""Which handler takes which message type, and how an envelope becomes an outgoing message."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from contracts.envelope import Envelope
from contracts.messages.dependants import DependantsDeclarationSubmitted
from contracts.messages.eltax import EltaxReceipt, PaymentReportRequested
from contracts.messages.eltax_tokucho import EltaxTokuchoInbound, TokuchoNoticeRequested
from contracts.messages.implementing_bodies import ClaimForwardingRequested, ForwardingReceipt
from contracts.messages.intermediate_server import (
    CodeAcquisitionRequested,
    DuplicateDataChanged,
    InfoQueryRefused,
    InfoQueryRequested,
    IsCodeAcquisitionResult,
    IsDuplicateResult,
    IsInfoQueryResult,
    IsProvisionNotice,
)
from contracts.messages.jlis_acquisition import JlisNumberAcquisitionResult, NumberAcquisitionRequested
from contracts.messages.nta import NtaReceipt, WithholdingSlipRequested
from contracts.messages.survival import JlisSurvivalChangeResult, SurvivalInquiryRequested
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
from hub.core.flows.implementing_bodies import handle_claim_forwarding_request, handle_forwarding_receipt
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
from hub.core.flows.nta import handle_nta_receipt, handle_withholding_slip_request
from hub.core.flows.survival import (
    handle_jlis_result,
    handle_survival_request,
    prefetch_jlis_results,
    prefetch_survival_requests,
)
from hub.core.runtime.retry import Exchanges
from hub.ports.transport import OutgoingMessage

__all__ = ["HANDLERS", "PREFETCHERS", "Handler", "Prefetcher", "Typed", "TypedPrefetch", "to_outgoing"]

Handler = Callable[[Decoded, HandlerContext], list[Envelope]]
"""What the worker calls for a decoded message of any type."""
Prefetcher = Callable[[Sequence[Decoded], HandlerContext], None]
"""What the worker calls for a batch of decoded messages of one type."""

P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Typed(Generic[P]):
    """A handler of one payload model, as the worker calls it: the message is narrowed to ``model`` first.

    The handler itself is typed by its payload (``Decoded[SurvivalInquiryRequested]``); a table entry whose
    model is not the registry's for its key fails on the first message, and a unit test checks every key.
    """

    model: type[P]
    handle: Callable[[Decoded[P], HandlerContext], list[Envelope]]

    def __call__(self, message: Decoded, ctx: HandlerContext) -> list[Envelope]:
        """Handle ``message`` (raises ``UnknownMessageType`` when its payload is not a ``model``)."""
        return self.handle(message.narrow(self.model), ctx)


@dataclass(frozen=True, slots=True)
class TypedPrefetch(Generic[P]):
    """A prefetcher of one payload model, as the worker calls it: the batch is narrowed to ``model`` first."""

    model: type[P]
    prefetch: Callable[[Sequence[Decoded[P]], HandlerContext], None]

    def __call__(self, messages: Sequence[Decoded], ctx: HandlerContext) -> None:
        """Look up the people of ``messages`` (all of one type, the worker groups them by type)."""
        self.prefetch([m.narrow(self.model) for m in messages], ctx)


HANDLERS: Mapping[tuple[str, int], Handler] = {
    ("pension.survival_inquiry.requested", 1): Typed(SurvivalInquiryRequested, handle_survival_request),
    ("jlis.survival_change.result", 1): Typed(JlisSurvivalChangeResult, handle_jlis_result),
    ("pension.number_acquisition.requested", 1): Typed(
        NumberAcquisitionRequested, handle_acquisition_request
    ),
    ("jlis.number_acquisition.result", 1): Typed(JlisNumberAcquisitionResult, handle_acquisition_result),
    ("pension.dependants_declaration.submitted", 1): Typed(
        DependantsDeclarationSubmitted, handle_dependants_declaration
    ),
    ("pension.payment_report.requested", 1): Typed(PaymentReportRequested, handle_payment_report_request),
    ("pension.tokucho.notice_requested", 1): Typed(TokuchoNoticeRequested, handle_tokucho_notice_request),
    ("eltax.receipt", 1): Typed(EltaxReceipt, handle_eltax_receipt),
    ("eltax.tokucho.inbound", 1): Typed(EltaxTokuchoInbound, handle_tokucho_inbound),
    ("pension.withholding_slip.requested", 1): Typed(
        WithholdingSlipRequested, handle_withholding_slip_request
    ),
    ("nta.receipt", 1): Typed(NtaReceipt, handle_nta_receipt),
    ("pension.claim_forwarding.requested", 1): Typed(
        ClaimForwardingRequested, handle_claim_forwarding_request
    ),
    ("implementing_bodies.receipt", 1): Typed(ForwardingReceipt, handle_forwarding_receipt),
    ("pension.code_acquisition.requested", 1): Typed(CodeAcquisitionRequested, handle_code_acquisition),
    ("intermediate_server.code_acquisition.result", 1): Typed(
        IsCodeAcquisitionResult, handle_code_acquisition_result
    ),
    ("pension.info_query.requested", 1): Typed(InfoQueryRequested, handle_info_query),
    ("intermediate_server.info_query.result", 1): Typed(IsInfoQueryResult, handle_info_query_result),
    ("hub.info_query.refused", 1): Typed(InfoQueryRefused, handle_refused_queries),
    ("pension.duplicate_data.changed", 1): Typed(DuplicateDataChanged, handle_duplicate_change),
    ("intermediate_server.duplicate.result", 1): Typed(IsDuplicateResult, handle_duplicate_result),
    ("intermediate_server.provision.notice", 1): Typed(IsProvisionNotice, handle_provision_notice),
}
"""Message types the hub handles on its ingress; anything else is dead-lettered as unknown."""

PREFETCHERS: Mapping[tuple[str, int], Prefetcher] = {
    ("pension.survival_inquiry.requested", 1): TypedPrefetch(
        SurvivalInquiryRequested, prefetch_survival_requests
    ),
    ("jlis.survival_change.result", 1): TypedPrefetch(JlisSurvivalChangeResult, prefetch_jlis_results),
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
