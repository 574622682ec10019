"""Records the hub refused to send because the purpose table does not permit the use (``not_permitted``).

Every outgoing use of a number is checked before the number is sealed (:mod:`hub.core.flows.purpose`): the
person's role and the basis the number was obtained under must permit the use, and the actor on whose behalf
the message runs must be allowed the use's 事務. A record that fails is not sent; the pension system learns it
here (for flows whose own outcome has no such status) or in the flow's own outcome (``not_permitted`` in the
survival and acquisition outcomes, ``not_permitted`` in the code statuses), always with a reason it can act
on:

* ``role_not_permitted``: the person holds no role the use serves (a 扶養控除対象者 asked about at J-LIS);
  remove the person from the request, or register the role first;
* ``basis_not_permitted``: the role is served but the number was obtained under another basis;
* ``actor_not_permitted``: the actor may not do the use's 事務 (the seed's split);
* ``no_recorded_basis``: the vault records no basis for the number.
"""

from __future__ import annotations

from pydantic import Field

from contracts.base import ContractModel
from contracts.envelope import ACTOR_PATTERN
from contracts.messages.common import NumberFreeText
from contracts.purpose_table import RefusalReason
from contracts.registry import register
from contracts.usage_number import UsageNumber

__all__ = ["NotPermittedOutcomes", "NotPermittedRecord", "RefusalReason"]

MAX_RECORDS = 50_000
_RULE = r"^[a-z][a-z0-9_.:-]{0,119}$"


class NotPermittedRecord(ContractModel):
    """One record the hub did not send, by usage number, with the rule and the reason."""

    record_seq: int = Field(ge=0)
    usage_number: UsageNumber
    use: str = Field(
        pattern=r"^[a-z][a-z0-9_.]{0,79}$", description="the purpose table's use, e.g. eltax.payment_report"
    )
    reason: RefusalReason
    rule: str = Field(
        pattern=_RULE, description="the rule that refused: purpose_table:<use> or purpose_table:jimu.<n>"
    )
    message: NumberFreeText = Field(min_length=1, max_length=600, description="the refusal, in words")


@register("pension.purpose.refused", 1)
class NotPermittedOutcomes(ContractModel):
    """Records of one request that were not sent: their use is not permitted (no number was sealed)."""

    request_type: str = Field(pattern=r"^[a-z][a-z0-9_.]{0,119}$", description="the request's message type")
    batch_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    actor: str | None = Field(None, pattern=ACTOR_PATTERN)
    records: tuple[NotPermittedRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)
