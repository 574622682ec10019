"""The hub's part in the withholding slips to the National Tax Agency (公的年金等の源泉徴収票).

Outbound: the pension system's request becomes a submission for the NTA adapter, enriched as the payment
report is (:mod:`hub.core.flows.tax_reports`) under the use ``nta.withholding_slip``: the recipient's,
the spouse's and the deductible dependants' numbers, sealed for ``nta``; a dependant under 16 is named
without a number (the slip has no item for it).

Inbound: the Agency acknowledges a file as a whole (受信通知); the hub passes it on to the pension system.
It names no person, so its access record names none.
"""

from __future__ import annotations

from typing import Final

from contracts.envelope import Envelope
from contracts.messages.nta import (
    WITHHOLDING_SLIP_PURPOSE,
    NtaOutcomes,
    NtaReceipt,
    NtaWithholdingSlipSubmission,
    WithholdingSlipRequested,
)
from contracts.purposes import NTA_WITHHOLDING_SLIP, PENSION_NTA
from contracts.registry import Decoded
from hub.core.flows.access import record_of
from hub.core.flows.context import HandlerContext, answer_pension
from hub.core.flows.tax_reports import ReportKind, handle_report_request
from hub.ports.audit import AuditAction

__all__ = ["SUBMISSION_TYPE", "WITHHOLDING_SLIP", "handle_nta_receipt", "handle_withholding_slip_request"]

SUBMISSION_TYPE: Final = "nta.withholding_slip.submission"

WITHHOLDING_SLIP: Final = ReportKind(
    use=NTA_WITHHOLDING_SLIP,
    recipient="nta",
    submission_type=SUBMISSION_TYPE,
    purpose=WITHHOLDING_SLIP_PURPOSE,
    submission=lambda request, records: NtaWithholdingSlipSubmission(
        chunk=request.chunk, tax_year=request.tax_year, payer=request.payer, records=records
    ),
    minors_numbered=False,
)
"""The withholding slip: recipient, spouse and deductible dependants numbered; no number under 16."""


def handle_withholding_slip_request(
    message: Decoded[WithholdingSlipRequested], ctx: HandlerContext
) -> list[Envelope]:
    """Add the numbers a withholding slip carries, sealed for the NTA adapter, and route the slips.

    A record with a number the slip may not carry is not sent; the pension system is told ``not_permitted``.
    """
    return handle_report_request(WITHHOLDING_SLIP, message, ctx)


def handle_nta_receipt(message: Decoded[NtaReceipt], ctx: HandlerContext) -> list[Envelope]:
    """Tell the pension system what the Agency said about one submitted file."""
    env, receipt = message.envelope, message.payload
    outcomes = NtaOutcomes.model_validate(receipt.model_dump())
    out = answer_pension(env, message_type="pension.nta.outcomes", payload=outcomes, code=PENSION_NTA)
    ctx.uow.audit.append(
        [
            record_of(
                ctx,
                AuditAction.RECEIVED,
                env,
                [],
                status=receipt.status.value,
                slips=str(receipt.slips),
                errors=str(len(receipt.errors)),
            ),
            record_of(ctx, AuditAction.ROUTED, out, []),
        ]
    )
    return [out]
