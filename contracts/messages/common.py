"""Value types shared by several message families."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import AfterValidator, Field, model_validator

from contracts.base import ContractModel

__all__ = ["Address", "ChunkInfo", "PlainText", "plain_text"]

_UNSAFE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Control characters, line and paragraph separators, and bidirectional marks, embeddings, overrides
and isolates: nothing a name or an address holds, and what breaks line-based files or makes text
display other than it reads (an RTL override)."""


def plain_text(value: str) -> str:
    """Refuse text with a control or bidirectional formatting character (the message names no value).

    Raises:
        ValueError: such a character is present.
    """
    if _UNSAFE.search(value):
        raise ValueError("holds a control or bidirectional formatting character")
    return value


PlainText = Annotated[str, AfterValidator(plain_text)]
"""Free text (a name, an address) without control or bidirectional formatting characters."""


class Address(ContractModel):
    """A residence address as J-LIS reports it (住所). ``abroad`` for 国外転出 (only the 附票 has it)."""

    text: PlainText = Field(min_length=1, max_length=160)
    postal_code: str | None = Field(None, pattern=r"^[0-9]{7}$")
    municipality_code: str | None = Field(None, pattern=r"^[0-9]{5,6}$")
    abroad: bool = False


class ChunkInfo(ContractModel):
    """Where a chunk sits in its batch: bulk flows travel as many messages of bounded size."""

    batch_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    chunk_index: int = Field(ge=0)
    chunk_count: int = Field(ge=1)
    total_records: int = Field(ge=0)

    @model_validator(mode="after")
    def _index_within_count(self) -> ChunkInfo:
        # Counterparts refuse a file whose chunk lies outside its batch (J-LIS checks it in the header):
        # refused here, at the hub's door, before anything is enriched and sent on.
        if self.chunk_index >= self.chunk_count:
            raise ValueError("chunk_index must be below chunk_count")
        return self
