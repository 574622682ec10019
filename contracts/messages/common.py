"""Value types shared by several message families."""

from __future__ import annotations

from pydantic import Field

from contracts.base import ContractModel

__all__ = ["Address", "ChunkInfo"]


class Address(ContractModel):
    """A residence address as J-LIS reports it (住所). ``abroad`` for 国外転出 (only the 附票 has it)."""

    text: str = Field(min_length=1, max_length=160)
    postal_code: str | None = Field(None, pattern=r"^[0-9]{7}$")
    municipality_code: str | None = Field(None, pattern=r"^[0-9]{5,6}$")
    abroad: bool = False


class ChunkInfo(ContractModel):
    """Where a chunk sits in its batch: bulk flows travel as many messages of bounded size."""

    batch_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    chunk_index: int = Field(ge=0)
    chunk_count: int = Field(ge=1)
    total_records: int = Field(ge=0)
