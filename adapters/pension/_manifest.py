"""The manifest that accompanies every exchange data file (``NAME.manifest.json``).

The manifest is written last: its presence says the data file is complete, and its SHA-256 and record
count let the reader prove it. Manifests are strict (unknown fields, wrong types and bools-for-ints are
refused) and serialised deterministically, so that rewriting an outcome file's manifest is idempotent.

Every manifest may name its ``actor``: the body on whose behalf the file runs, ``federation`` (市町村連合会)
or a 構成組合's code from the purpose table's actor list. A request manifest without one runs on behalf of the
federation (the documented default of format version 1, for files written before actors existed); renkei
writes the actor of the flow on every outcome manifest.

Each file kind has its manifest, told apart by ``kind``: the survival inquiry and its outcomes carry the
payment ``cycle``; number acquisition requests carry ``as_of``; dependants' declarations carry the
``tax_year`` and the ``filing_deadline`` their retention runs from; payment reports and withholding slips
carry the ``tax_year`` and the ``payer`` (提出義務者: name, address, phone, 法人番号, 整理番号), which a slip
requires to name its 法人番号; a special collection notice carries its ``notice_code`` (one the federation
sends), the ``fiscal_year`` and the ``created_on`` date; code acquisition, information query and 副本
change files carry nothing more than every manifest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from adapters.pension.errors import IndividualNumberInFile, MalformedPensionFile, Reason
from contracts.envelope import ACTOR_PATTERN
from contracts.messages.eltax import FROM_FEDERATION, PaymentReportPayer, TokuchoNoticeCode
from contracts.purpose_table import FEDERATION
from contracts.redaction import holds_number

__all__ = [
    "MAX_MANIFEST_BYTES",
    "AcquisitionManifest",
    "AcquisitionOutcomeManifest",
    "AnswerManifest",
    "AnyManifest",
    "CodeAcquisitionManifest",
    "DependantsAckManifest",
    "DependantsManifest",
    "DuplicateChangesManifest",
    "InfoQueryManifest",
    "InquiryManifest",
    "Manifest",
    "OutcomeManifest",
    "PaymentReportManifest",
    "RequestManifest",
    "SpecialCollectionManifest",
    "WithholdingSlipManifest",
    "dump_manifest",
    "format_version_for",
    "manifest_holds_a_number",
    "new_manifest",
    "parse_manifest",
]

MAX_MANIFEST_BYTES: Final = 16 * 1024
_BATCH = r"^[A-Za-z0-9_.-]{1,64}$"
_CYCLE = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_FILE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,150}\.csv$"
# The "sha256" value is a hex digest, not personal data: about one digest in 330 holds a 12-digit run
# with a valid check digit, and such a manifest must not be refused as carrying an Individual Number.
_DIGEST_VALUE: Final = re.compile(r'("sha256"\s*:\s*")[0-9a-f]{64}(")')


class _ManifestBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, strict=True)

    format_version: Literal[1, 2]
    file_name: str = Field(pattern=_FILE)
    record_count: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    batch_id: str = Field(pattern=_BATCH)
    actor: str | None = Field(None, pattern=ACTOR_PATTERN)
    """On whose behalf the file runs (``None`` in a request: the federation; see the module)."""

    @model_validator(mode="after")
    def _actor_by_version(self) -> _ManifestBase:
        # Version 2 names the actor; version 1 (written before actors existed) has no such field.
        if (self.format_version == 2) != (self.actor is not None):
            raise ValueError("actor is required in format_version 2 and absent in format_version 1")
        return self

    @property
    def acting_for(self) -> str:
        """The actor, with the documented default of a request manifest without one (the federation)."""
        return self.actor or FEDERATION


class _CycleManifest(_ManifestBase):
    cycle: str = Field(pattern=_CYCLE)


class AnswerManifest(_ManifestBase):
    """What every answer file's manifest (renkei -> pension system) has: the chunk it answers."""

    chunk_index: int = Field(ge=0)
    chunk_count: int = Field(ge=1)


class InquiryManifest(_CycleManifest):
    """The manifest of a survival inquiry request file."""

    kind: Literal["survival_inquiry"]
    as_of: date = Field(strict=False)


class OutcomeManifest(_CycleManifest, AnswerManifest):
    """The manifest of an outcome file (one answered chunk)."""

    kind: Literal["survival_outcomes"]
    answered_by: Literal["jlis", "hub"]


class AcquisitionManifest(_ManifestBase):
    """The manifest of a number acquisition request file (新規裁定者の個人番号取得依頼)."""

    kind: Literal["number_acquisition"]
    as_of: date = Field(strict=False)


class AcquisitionOutcomeManifest(AnswerManifest):
    """The manifest of a number acquisition outcome file (one answered chunk, or one resolved hold)."""

    kind: Literal["number_acquisition_outcomes"]
    answered_by: Literal["jlis", "hub", "operator"]


class DependantsManifest(_ManifestBase):
    """The manifest of a dependants' declaration file (扶養親族等申告書): the one kind that holds numbers."""

    kind: Literal["dependants_declaration"]
    tax_year: int = Field(ge=2016, le=2100)
    filing_deadline: date = Field(strict=False)


class DependantsAckManifest(AnswerManifest):
    """The manifest of a dependants' declaration acknowledgement file (one acknowledged chunk)."""

    kind: Literal["dependants_declaration_acks"]
    tax_year: int = Field(ge=2016, le=2100)


class _TaxReportManifest(_ManifestBase):
    tax_year: int = Field(ge=2019, le=2100)
    """年分: the year the payments were made."""
    payer: PaymentReportPayer
    """The payer (提出義務者), as every record of the file names it."""


class PaymentReportManifest(_TaxReportManifest):
    """The manifest of a payment report request file (公的年金等支払報告書, to eLTAX)."""

    kind: Literal["payment_report"]


class WithholdingSlipManifest(_TaxReportManifest):
    """The manifest of a withholding slip request file (公的年金等の源泉徴収票, to the Tax Agency)."""

    kind: Literal["withholding_slip"]

    @field_validator("payer")
    @classmethod
    def _slip_names_the_corporate_number(cls, payer: PaymentReportPayer) -> PaymentReportPayer:
        if payer.corporate_number is None:
            raise ValueError("a withholding slip names the payer's corporate_number (法人番号)")
        return payer


class SpecialCollectionManifest(_ManifestBase):
    """The manifest of a special collection notice file (年金特徴, to the municipalities through eLTAX)."""

    kind: Literal["special_collection"]
    notice_code: TokuchoNoticeCode = Field(strict=False)
    """通知内容コード: one of the notices the federation sends (00, 02, 22, 30, 32, 42, 62)."""
    fiscal_year: int = Field(ge=2019, le=2100)
    """The 年度 the collection serves."""
    created_on: date = Field(strict=False)
    """作成年月日 of the notice."""

    @field_validator("notice_code")
    @classmethod
    def _sent_by_the_federation(cls, code: TokuchoNoticeCode) -> TokuchoNoticeCode:
        if code not in FROM_FEDERATION:
            raise ValueError(f"notice {code.value} is the municipalities' to send, not the federation's")
        return code


class CodeAcquisitionManifest(_ManifestBase):
    """The manifest of a code acquisition request file (符号取得, to the intermediate server)."""

    kind: Literal["code_acquisition"]


class InfoQueryManifest(_ManifestBase):
    """The manifest of an information query request file (情報照会, to the intermediate server)."""

    kind: Literal["info_query"]


class DuplicateChangesManifest(_ManifestBase):
    """The manifest of a 副本 change request file (副本登録, to the intermediate server)."""

    kind: Literal["duplicate_changes"]


RequestManifest = (
    InquiryManifest
    | AcquisitionManifest
    | DependantsManifest
    | PaymentReportManifest
    | WithholdingSlipManifest
    | SpecialCollectionManifest
    | CodeAcquisitionManifest
    | InfoQueryManifest
    | DuplicateChangesManifest
)
"""The manifests of files the pension system drops in ``inbound/``."""
AnyManifest = RequestManifest | OutcomeManifest | AcquisitionOutcomeManifest | DependantsAckManifest
Manifest = Annotated[AnyManifest, Field(discriminator="kind")]
_MANIFEST: Final[TypeAdapter[AnyManifest]] = TypeAdapter(Manifest)
M = TypeVar("M", bound=_ManifestBase)


def format_version_for(actor: str | None) -> Literal[1, 2]:
    """The format a file is written in: version 2, which names the actor, when the flow has one; else 1."""
    return 2 if actor is not None else 1


def new_manifest(
    model: Callable[..., M],
    *,
    actor: str | None,
    file_name: str,
    record_count: int,
    sha256: str,
    batch_id: str,
    **fields: Any,
) -> M:
    """A manifest of ``model``: the fields every manifest has, and the kind's own ``fields`` beside.

    Its format is the one :func:`format_version_for` the actor gives.

    Raises:
        pydantic.ValidationError: a field is not valid for a manifest.
    """
    return model(
        format_version=format_version_for(actor),
        actor=actor,
        file_name=file_name,
        record_count=record_count,
        sha256=sha256,
        batch_id=batch_id,
        **fields,
    )


def dump_manifest(manifest: AnyManifest) -> bytes:
    """Serialise a manifest deterministically (same manifest, same bytes).

    A manifest without an actor serialises as it did before actors existed (the field is left out), so its
    digest, and the message ids derived from it, stay what they were.
    """
    data = manifest.model_dump(mode="json", exclude={"actor"} if manifest.actor is None else None)
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def manifest_holds_a_number(text: str) -> bool:
    """Tell whether a manifest's text holds a value with the form of an Individual Number.

    The checksum (``"sha256"``: 64 lower-case hex digits) is left out of the scan: it is a digest of the
    data file, and its digit runs are chance, not numbers.
    """
    return holds_number(_DIGEST_VALUE.sub(r"\1\2", text))


def parse_manifest(raw: bytes) -> AnyManifest:
    """Parse and validate a manifest.

    Raises:
        MalformedPensionFile: it is not a valid manifest (the message names fields, never values).
        IndividualNumberInFile: it contains a value with the form of an Individual Number.
    """

    def bad(problem: str) -> MalformedPensionFile:
        return MalformedPensionFile(f"manifest: {problem}", reason=Reason.MANIFEST_INVALID)

    if len(raw) > MAX_MANIFEST_BYTES:
        raise bad(f"larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad("not UTF-8") from None
    if manifest_holds_a_number(text):
        raise IndividualNumberInFile(column="manifest")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise bad("not JSON") from None
    try:
        return _MANIFEST.validate_python(data)
    except ValidationError as exc:
        errors = exc.errors()
        fields = sorted({".".join(str(p) for p in e["loc"]) or "(root)" for e in errors})
        # A rule of renkei's own (a validator's message) says what is wrong; it never quotes the value.
        rules = sorted({e["msg"].removeprefix("Value error, ") for e in errors if e["type"] == "value_error"})
        said = f" ({'; '.join(rules[:3])})" if rules else ""
        raise bad(f"invalid or missing field(s): {', '.join(fields[:10])}{said}") from None
