"""The base every contract model shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ContractModel"]


class ContractModel(BaseModel):
    """A frozen, strict message model.

    ``hide_input_in_errors`` keeps a rejected value (which may be an Individual Number) out of every
    validation error, and so out of logs, exceptions and dead-letter reasons.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", hide_input_in_errors=True, str_strip_whitespace=False
    )
