"""A schema may change only under a new schema_version: the committed export is the snapshot."""

from pathlib import Path

from contracts.registry import export_schemas, registered

COMMITTED = Path(__file__).resolve().parents[2] / "contracts" / "schemas"


def test_every_contract_matches_its_committed_schema(tmp_path):
    fresh = {p.name: p.read_text(encoding="utf-8") for p in export_schemas(tmp_path)}
    assert fresh, "no contract registered"
    for name, text in sorted(fresh.items()):
        committed = COMMITTED / name
        assert committed.exists(), (
            f"{name} is not committed: run `renkei contracts export contracts/schemas` and commit it"
        )
        assert committed.read_text(encoding="utf-8") == text, (
            f"{name} changed without a schema_version bump: register the new shape under a new version"
        )


def test_no_committed_schema_lacks_a_contract():
    names = {f"{t}.v{v}.json" for (t, v), _ in registered()}
    stale = sorted(p.name for p in COMMITTED.glob("*.json") if p.name not in names)
    assert not stale, f"committed schemas without a registered contract: {stale}"
