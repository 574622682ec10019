"""What the hub's intermediate server handlers share: purposes, access records, replies, error texts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Final

from pydantic import BaseModel

from contracts.envelope import Envelope, LegalBasis, Purpose
from contracts.ids import stable_id
from contracts.messages.intermediate_server import IsError
from contracts.purpose_table import default_table
from contracts.purposes import IS_CODE_ACQUISITION, IS_DUPLICATE, IS_DUPLICATE_DATA, IS_INFO_QUERY
from contracts.usage_number import UsageNumber
from hub.core.flows.access import access_record
from hub.core.flows.context import HandlerContext, reply
from hub.ports.audit import AccessRecord, AuditAction
from hub.ports.vault import AUDIT_SCOPE, SubjectId

__all__ = [
    "CODE_PURPOSE",
    "DUPLICATE_PURPOSE",
    "IS",
    "NUMBER_ACT",
    "actor_label",
    "error_text",
    "people_with_codes",
    "query_purpose",
    "query_record_id",
    "send_to_is",
]

IS: Final = "intermediate_server"
NUMBER_ACT: Final = "行政手続における特定の個人を識別するための番号の利用等に関する法律"
"""番号法, spelled as in the purpose table (``contracts/purpose_table.toml``)."""

CODE_PURPOSE: Final = default_table().use(IS_CODE_ACQUISITION).purpose
"""The purpose table's use: 符号取得 (the number leaves once, sealed for the adapter)."""
DUPLICATE_PURPOSE: Final = Purpose(
    code=IS_DUPLICATE_DATA,
    legal_basis=default_table().use(IS_DUPLICATE).purpose.legal_basis,
)
_RECORD_NAMESPACE: Final = uuid.UUID("5b0e3c1d-6a8e-5e8b-9c41-6973686f6b61")

_TEXTS: Final = {
    IsError.CODE_NOT_ACQUIRED: "指定された対象者は符号が未取得です。",
    IsError.DUPLICATE_RECORD_ID: "「レコード識別番号」が既に存在しています。",
    IsError.QUERY_NOT_PERMITTED: "指定された特定個人情報名の照会は許可されていません。",
    IsError.PROVIDER_UNAVAILABLE: "情報提供者の中間サーバーに接続できません。",
    IsError.NO_DATA: "該当する特定個人情報が存在しません。",
    IsError.RECORD_NOT_FOUND: "指定された「レコード識別番号」は存在しません。",
}


def error_text(error: IsError | None) -> str | None:
    """The network's wording of an error, for the pension system.

    The network's own message may name the 宛名番号, which the pension system must not see; this is the same
    wording with the identifying part left out.
    """
    return None if error is None else _TEXTS[error]


def query_purpose(items: Iterable[tuple[int, str]]) -> Purpose:
    """The purpose of a query message: 番号法 第19条第8号 and each table item the queries rely on."""
    table = default_table()
    bases = [table.bases["mynumber.19-8"].legal_basis]
    order = table.laws["order"].name
    for item, article in sorted(set(items)):
        bases.append(LegalBasis(law=order, article=article, item=f"第2条の表 {item}の項"))
    return Purpose(code=IS_INFO_QUERY, legal_basis=tuple(bases))


def actor_label(code: str | None) -> str:
    """The body an 情報提供等の記録 names as requester or provider: ``東京都市町村職員共済組合（m130001）``.

    The actor is the one the hub established for the flow (the 構成組合 that queried, or the federation or
    構成組合 whose 副本 was served); an unknown actor is written as such, never replaced by the federation.
    """
    if code is None:
        return "（不明: actor not established）"
    return f"{default_table().actor_name(code)}（{code}）"


def query_record_id(cause: uuid.UUID, record_seq: int) -> str:
    """The レコード識別番号 of a query: deterministic from its request, never shaped like a number."""
    return stable_id(_RECORD_NAMESPACE, f"{cause}/{record_seq}").hex.upper()


def people_with_codes(
    ctx: HandlerContext, usage: Sequence[UsageNumber]
) -> tuple[dict[UsageNumber, SubjectId], dict[SubjectId, str], dict[SubjectId, str], dict[SubjectId, str]]:
    """The people of a message to the network: ``(subjects, audit tokens, codes, 宛名番号)``.

    Subjects by usage number (the unknown left out), the audit tokens of the known, the 符号 of those the hub
    holds one for, and their 宛名番号.
    """
    vault, codes = ctx.uow.vault, ctx.uow.codes
    subjects = vault.subjects_by_usage(list(usage))
    known = list(dict.fromkeys(subjects.values()))
    tokens = vault.tokens(AUDIT_SCOPE, known)
    held = codes.codes_of(known)
    return subjects, tokens, held, codes.atena_numbers(list(held))


def send_to_is(
    ctx: HandlerContext,
    cause: Envelope,
    *,
    message_type: str,
    payload: BaseModel,
    purpose: Purpose,
    tokens: Sequence[str],
    records: list[AccessRecord],
) -> Envelope:
    """The message for the intermediate server caused by ``cause``, recorded as routed.

    Its access record (appended to ``records``) names the people it carries, one audit token a record of
    the payload (``tokens``), and how many records it carries.
    """
    sent = reply(cause, message_type=message_type, payload=payload, label=IS, purpose=purpose, destination=IS)
    records.append(access_record(ctx, AuditAction.ROUTED, sent, tokens, records=str(len(tokens))))
    return sent
