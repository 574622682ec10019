"""Malformed request files dropped in the pension exchange directory (the pension system's side).

Each case is a data file and/or a manifest written into ``inbound/`` the way the pension system writes
(temporary name, rename, manifest last) and the ``reason`` its rejection report must give. Names start
with ``cNN-`` so that the adapter, which takes files in name order, meets the valid neighbours between the
bad ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import EllipsisType
from typing import Any

from contracts.individual_number import synthetic_individual_number
from tests.corpus.builders import DELETE, inquiry_csv, pension_manifest

__all__ = ["PensionCase", "duplicate_cases", "pension_cases", "valid_request", "write_case"]


@dataclass(frozen=True)
class PensionCase:
    """One refused request file.

    Attributes:
        id: the case's name.
        name: the data file's name (its manifest is ``name + .manifest.json``).
        data: the data file's bytes, or ``None`` for no data file.
        manifest: the manifest's bytes, or ``None`` for no manifest.
        reasons: the ``reason`` values its rejection report may give.
        symlink_to: make the data file a symbolic link to this path instead.
    """

    id: str
    name: str
    data: bytes | None
    manifest: bytes | None
    reasons: frozenset[str]
    symlink_to: str | None = None


def valid_request(name: str, batch_id: str, usage_values: list[str]) -> tuple[bytes, bytes]:
    """A valid request file of ``usage_values`` and its manifest."""
    data = inquiry_csv([(str(i + 1), "pension_certificate", v) for i, v in enumerate(usage_values)])
    return data, pension_manifest(name, data, batch_id=batch_id)


def pension_cases(usage_values: list[str]) -> Iterator[PensionCase]:
    """Every refused request file; numbered ``c01`` upwards in the order the adapter takes them."""
    number = synthetic_individual_number().reveal()
    counter = iter(range(1, 1000))

    def case(
        slug: str,
        rows: list[tuple[str, str, str]] | bytes | None,
        reasons: set[str] | str,
        *,
        manifest: bytes | EllipsisType | None = ...,
        name: str | None = None,
        symlink_to: str | None = None,
        **overrides: Any,
    ) -> PensionCase:
        n = next(counter)
        file = name or f"c{n:02d}-{slug}.csv"
        data = rows if isinstance(rows, bytes) or rows is None else inquiry_csv(rows)
        if manifest is ...:
            fields: dict[str, Any] = {"batch_id": f"bad-{n:02d}", **overrides}
            manifest = pension_manifest(file, data or b"", **fields)
        wanted = frozenset({reasons} if isinstance(reasons, str) else reasons)
        return PensionCase(f"pension-{slug}", file, data, manifest, wanted, symlink_to)

    ok = [("1", "pension_certificate", usage_values[0]), ("2", "pension_certificate", usage_values[1])]

    def row(value: str, seq: str = "1", kind: str = "pension_certificate") -> list[tuple[str, str, str]]:
        return [(seq, kind, value)]

    # -- names --------------------------------------------------------------------------------------------
    yield case("space", ok, "unsupported_name", name="c00 space in name.csv")
    yield case("not-csv", ok, "unsupported_name", name="c00-data.txt")
    yield case("number-in-name", ok, "individual_number", name=f"c00-{number}.csv")
    yield case("symlink", None, "not_regular_file", symlink_to="/etc/passwd")
    # -- manifests ----------------------------------------------------------------------------------------
    yield case("orphan-manifest", None, "orphan_manifest")
    yield case("manifest-not-json", ok, "manifest_invalid", manifest=b"{not json")
    yield case("manifest-not-utf8", ok, "manifest_invalid", manifest=b'{"kind": "\xff\xfe"}')
    yield case("manifest-too-large", ok, "manifest_invalid", note="x" * 20_000)
    yield case("manifest-array", ok, "manifest_invalid", manifest=b"[]")
    yield case("manifest-missing-sha256", ok, "manifest_invalid", sha256=DELETE)
    yield case("manifest-extra-field", ok, "manifest_invalid", extra="1")
    yield case("manifest-count-as-text", ok, "manifest_invalid", record_count="2")
    yield case("manifest-version-2", ok, "manifest_invalid", format_version=2)
    yield case(
        "manifest-kind-outcomes", ok, {"manifest_invalid", "manifest_mismatch"}, kind="survival_outcomes"
    )
    yield case("manifest-other-file", ok, "manifest_mismatch", file_name="c99-other.csv")
    yield case("manifest-cycle-13", ok, "manifest_invalid", cycle="2026-13")
    yield case("manifest-as-of-feb-30", ok, "manifest_invalid", as_of="2026-02-30")
    yield case("manifest-batch-path", ok, "manifest_invalid", batch_id="../../etc/passwd")
    yield case("manifest-batch-injection", ok, "manifest_invalid", batch_id="x'; DROP TABLE inbox; --")
    yield case("manifest-number", ok, "individual_number", batch_id=number)
    yield case("manifest-count-wrong", ok, "record_count_mismatch", record_count=5)
    yield case("manifest-sha-wrong", ok, "checksum_mismatch", sha256="0" * 64)
    # -- data files ---------------------------------------------------------------------------------------
    full = inquiry_csv(ok)
    n = next(counter)
    truncated = f"c{n:02d}-truncated.csv"
    yield PensionCase(
        "pension-truncated",
        truncated,
        full[:-10],
        pension_manifest(truncated, full, batch_id=f"bad-{n:02d}"),
        frozenset({"checksum_mismatch"}),
    )
    sjis = "record_seq,usage_number_kind,usage_number\n1,pension_certificate,P山田\n".encode("shift_jis")
    yield case("shift-jis", sjis, "not_utf8")
    yield case("utf16", full.decode().encode("utf-16"), "not_utf8")
    yield case("utf8-bom", b"\xef\xbb\xbf" + full, "byte_order_mark")
    yield case("line-too-long", row("P" + "1" * 70_000), "line_too_long")
    yield case("bad-quoting", full + b'3,"pension_certificate,P0000000003\n', "bad_csv")
    yield case("bad-header", b"seq,kind,value\n1,pension_certificate,P0000000001\n", "bad_header")
    yield case("header-only", b"record_seq,usage_number_kind,usage_number\n", "no_records")
    yield case("empty-file", b"", {"bad_header", "no_records"})
    yield case("empty-line", full + b"\n" + b"3,pension_certificate,P0000000003\n", "empty_line")
    yield case("four-fields", [("1", "pension_certificate", "P0000000001,extra")], "field_count")
    yield case("seq-letters", row(usage_values[0], seq="x"), "bad_field")
    yield case("seq-full-width", row(usage_values[0], seq="１"), {"bad_field", "non_ascii"})
    yield case("seq-order", [ok[1], ok[0]], "record_seq_order")
    yield case("seq-repeated", [ok[0], ("1", "pension_certificate", usage_values[1])], "record_seq_order")
    yield case("kind-unknown", row(usage_values[0], kind="my_number"), "bad_field")
    yield case("usage-full-width", row("Ｐ０００００００００１"), "non_ascii")
    yield case("usage-sql", row("P1'; DROP TABLE vault; --"), "bad_field")
    yield case("usage-script", row("<script>alert(1)</script>"), "bad_field")
    yield case("usage-path", row("../../etc/passwd"), "bad_field")
    yield case("usage-nul", row("P000\x00001"), {"bad_field", "bad_csv"})
    yield case("usage-rtl", row("\u202eP0000000001"), "non_ascii")
    yield case("usage-number", row(number), "individual_number")
    yield case("usage-too-long", row("P" + "1" * 40), "bad_field")


def duplicate_cases(
    processed_name: str, processed_batch: str, usage_values: list[str]
) -> Iterator[PensionCase]:
    """Files that repeat a processed one: the same file, its batch id, its name."""
    data, manifest = valid_request(processed_name, processed_batch, usage_values)
    yield PensionCase(
        "pension-same-file-again", processed_name, data, manifest, frozenset({"already_processed"})
    )
    other = "d01-reuses-batch.csv"
    other_data, _ = valid_request(other, processed_batch, usage_values[:1])
    yield PensionCase(
        "pension-batch-id-reused",
        other,
        other_data,
        pension_manifest(other, other_data, batch_id=processed_batch),
        frozenset({"batch_id_reused"}),
    )
    changed, _ = valid_request(processed_name, "another-batch", usage_values[:1])
    yield PensionCase(
        "pension-name-reused",
        processed_name,
        changed,
        pension_manifest(processed_name, changed, batch_id="reuses-name"),
        frozenset({"name_already_used"}),
    )


def write_case(inbound: Path, case: PensionCase) -> None:
    """Drop a case in ``inbound`` as the pension system does: data first, manifest last, each by rename."""
    if case.symlink_to is not None:
        os.symlink(case.symlink_to, inbound / case.name)
    elif case.data is not None:
        _atomic(inbound / case.name, case.data)
    if case.manifest is not None:
        _atomic(inbound / (case.name + ".manifest.json"), case.manifest)


def _atomic(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    tmp.chmod(0o600)
    os.replace(tmp, path)
