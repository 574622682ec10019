"""Every case of the bad-input corpus, fed to the reader that meets it first, in process (no broker).

The end-to-end test (``test_bad_input_e2e.py``) sends the same corpus through the running services; this
one pins, case by case and fast, which reader refuses what and with which reason: the registry for the
hub's ingress, the link cipher and each adapter's ``from_counterpart`` for the counterpart links, and the
directory gateway for the pension exchange.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.pension import ExchangeDirectory, Rejection
from contracts.errors import ContractError, PermanentError
from contracts.ids import new_id
from contracts.link import CounterpartFile
from contracts.registry import decode
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.settings import Settings
from tests.corpus.ingress import IngressCase, ingress_cases
from tests.corpus.links import LinkCase, eltax_cases, intermediate_server_cases, jlis_cases, link_body
from tests.corpus.pension import PensionCase, pension_cases, write_case

USAGE = [f"P{i:010d}" for i in range(5)]
REFS = ["abcdefghijklmnop"]
CORRELATION = str(new_id())


def _seal(message_id, recipient, field):  # a stand-in sealed value of the right shape
    return f"sealed:v1:{recipient}:k1:" + "A" * 60


INGRESS = list(ingress_cases(USAGE, REFS, _seal))
LINKS = [*jlis_cases(CORRELATION, REFS), *intermediate_server_cases(CORRELATION), *eltax_cases(CORRELATION)]
PENSION = list(pension_cases(USAGE))
HANDLER_LEVEL = {"seal_invalid"}  # refused by the hub's handler (it needs the vault), not by decode


def test_the_corpus_has_at_least_a_hundred_cases_with_unique_ids():
    ids = [c.id for c in INGRESS] + [c.id for c in LINKS] + [c.id for c in PENSION]
    assert len(ids) >= 100
    assert len(ids) == len(set(ids))
    assert {c.counterpart for c in LINKS} == {"jlis", "intermediate_server", "eltax"}


@pytest.mark.parametrize("case", INGRESS, ids=lambda c: c.id)
def test_the_registry_refuses_each_ingress_case_with_its_reason(case: IngressCase):
    if case.reasons <= HANDLER_LEVEL:
        decode(case.body)  # well-formed: the handler refuses it (end-to-end test)
        return
    if case.id == "result-unknown-reference":
        decode(case.body)
        return
    with pytest.raises(ContractError) as caught:
        decode(case.body)
    assert caught.value.code in case.reasons, str(caught.value)
    assert str(caught.value)
    if case.secret:
        assert case.secret not in str(caught.value)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDeployment]:
    hub = local_deployment(Settings(data_dir=tmp_path_factory.mktemp("corpus") / "var"), configure_logs=False)
    yield hub
    hub.close()


def _adapter(hub: LocalDeployment, counterpart: str):
    return hub.adapter(counterpart)


@pytest.mark.parametrize("case", LINKS, ids=lambda c: c.id)
def test_each_link_case_is_refused_by_the_link_or_its_adapter_with_its_reason(
    hub: LocalDeployment, case: LinkCase
):
    body = link_body(hub, case)
    link = hub.link_cipher(case.counterpart)  # what the adapter holds: its own line's key alone

    def read() -> None:
        file: CounterpartFile = link.open(body)
        _adapter(hub, case.counterpart).from_counterpart(file)

    if case.reasons == {"validation_failed"}:
        read()  # well-formed: only the hub cannot match it (the end-to-end test sees it dead-lettered)
        return
    with pytest.raises(PermanentError) as caught:
        read()
    assert caught.value.code in case.reasons, f"{caught.value.code}: {caught.value}"
    assert str(caught.value)


@pytest.mark.parametrize("case", PENSION, ids=lambda c: c.id)
def test_each_request_file_is_refused_whole_with_its_reason(tmp_path: Path, case: PensionCase):
    gateway = ExchangeDirectory(tmp_path / "pension")
    write_case(gateway.inbound, case)
    taken = gateway.take_next()
    assert isinstance(taken, Rejection), f"taken: {taken}"
    assert taken.reason.value in case.reasons, taken
    assert taken.problem
    assert taken.action
    assert not list(gateway.inbound.iterdir()), "the refused file left inbound/"
