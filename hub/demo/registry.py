"""The flows ``renkei demo`` runs, in order."""

from __future__ import annotations

from collections.abc import Callable

from hub.demo.acquisition import AcquisitionFlow
from hub.demo.dependants import DependantsFlow
from hub.demo.eltax import PaymentReportFlow, SpecialCollectionFlow
from hub.demo.flow import DemoFlow
from hub.demo.implementing_bodies import ClaimForwardingFlow
from hub.demo.intermediate_server import DuplicateDataFlow, InfoQueryFlow, ProvisionNoticeFlow
from hub.demo.nta import WithholdingSlipFlow
from hub.demo.survival import SurvivalFlow

__all__ = ["FLOWS"]

FLOWS: dict[str, Callable[[], DemoFlow]] = {
    "survival_inquiry": SurvivalFlow,
    "number_acquisition": AcquisitionFlow,
    "dependants_declaration": DependantsFlow,
    "info_query": InfoQueryFlow,
    "duplicate_data": DuplicateDataFlow,
    "provision_notice": ProvisionNoticeFlow,
    "payment_report": PaymentReportFlow,
    "special_collection": SpecialCollectionFlow,
    "withholding_slip": WithholdingSlipFlow,
    "claim_forwarding": ClaimForwardingFlow,
}
"""Flow name → factory. A new flow adds one line here."""
