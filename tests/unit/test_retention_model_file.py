"""The retention model file is checked when it is loaded: a malformed row stops the import, never skipped."""

from __future__ import annotations

from importlib import resources

import pytest

from contracts.errors import ConfigurationError
from hub.core.rules.retention_model import RETENTION_MODEL, load_model

TEXT = resources.files("hub.core.rules").joinpath("retention_model.toml").read_text(encoding="utf-8")


def test_the_file_kept_beside_the_module_is_the_model_in_force() -> None:
    assert load_model(TEXT) == RETENTION_MODEL


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (('kind = "outbox"', 'kind = "vault.person"'), "every kind once"),
        (('basis_held_under = "pension.entitlement"', 'basis_held_under = "no.such"'), "keeps no number"),
        (("\ncrypto_shredded = true\n", '\ncrypto_shredded = true\nat_end = "deleted"\n'), "not both"),
        (("days = 30", "days = 0"), "greater than 0"),
        (('job = "broker"', 'job = "broker"\nperiod = 3'), "period"),
        (('enforcer = "RabbitMQ (consumption)"', 'enforcer = "nobody"'), "enforcer"),
    ],
)
def test_a_malformed_row_is_refused_with_what_is_wrong(change: tuple[str, str], says: str) -> None:
    old, new = change
    assert old in TEXT
    with pytest.raises(ConfigurationError, match="retention model") as caught:
        load_model(TEXT.replace(old, new, 1))
    assert says in str(caught.value)
