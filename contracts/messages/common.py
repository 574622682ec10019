"""Value types shared by several message families."""

from __future__ import annotations

from pydantic import Field, model_validator

from contracts.base import ContractModel
from contracts.text import NumberFreeText, PlainText, holds_no_number, plain_text

__all__ = ["Address", "ChunkInfo", "NumberFreeText", "PlainText", "holds_no_number", "plain_text"]


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
