"""The adapter host's composition root, built from a table of adapter specs (one :class:`AdapterSpec` each).

An adapter host consumes the adapter's queue from the hub and, for a counterpart reached over the broker,
its counterpart's inbound line; a directory-polling adapter (the pension system's) also polls its inbound
directory. It connects to the broker as ``adapter-<name>`` and holds that adapter's keys alone
(:class:`~hub.infra.keys.service_keys.AdapterKeys`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from adapters.eltax import EltaxAdapter
from adapters.implementing_bodies import ImplementingBodiesAdapter
from adapters.intermediate_server import IntermediateServerAdapter
from adapters.jlis import JlisAdapter
from adapters.nta import NtaAdapter
from adapters.pension import ExchangeDirectory, PensionAdapter
from contracts.errors import ConfigurationError
from contracts.link import Adapter, PollingAdapter
from hub.bootstrap.common import Wiring, body_limits, consume, spec_named
from hub.bootstrap.transports import TransportFactory
from hub.core.runtime.hosting import AdapterHost, DirectoryPoller, HostDeps
from hub.infra.crypto.link_cipher import AeadLinkCipher
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.infra.keys.bundles import UnsealingKeys
from hub.infra.keys.service_keys import AdapterKeys
from hub.infra.runner import ServiceGroup
from hub.infra.service_names import adapter_service
from hub.settings import Settings

__all__ = ["ADAPTER_SPECS", "POLL_INTERVAL_S", "AdapterSpec", "adapter_spec", "build_adapter_host"]

POLL_INTERVAL_S = 0.2
"""How often a directory-polling adapter looks for complete files."""

BuildAdapter = Callable[[Settings, AdapterKeys], Adapter]
BuildPoller = Callable[[Settings, AdapterKeys], PollingAdapter]


@dataclass(frozen=True, slots=True)
class AdapterSpec:
    """One adapter: how to build it and what it consumes.

    Attributes:
        name: the adapter's name (``jlis``, ...), which names its queue and its service.
        summary: one line for ``renkei run adapter --help``.
        build: makes the adapter from the settings and its keys.
        link: it also consumes its counterpart's inbound line (``{p}.counterpart.<name>.inbound``).
        poller: makes the adapter that polls its inbound directory, for an adapter that does.
    """

    name: str
    summary: str
    build: BuildAdapter
    link: bool = False
    poller: BuildPoller | None = None

    @property
    def polls_directory(self) -> bool:
        """Whether the adapter polls a directory."""
        return self.poller is not None


def _unsealing(keys: AdapterKeys) -> UnsealingKeys:
    if keys.unsealing is None:
        raise ConfigurationError(f"the {keys.adapter} adapter was given no key to open its sealed numbers")
    return keys.unsealing


def _jlis(settings: Settings, keys: AdapterKeys) -> JlisAdapter:
    return JlisAdapter(unsealer=HpkeUnsealer(_unsealing(keys)), sealer=HpkeSealer(keys.sealing))


def _intermediate_server(settings: Settings, keys: AdapterKeys) -> IntermediateServerAdapter:
    return IntermediateServerAdapter(unsealer=HpkeUnsealer(_unsealing(keys)))


def _eltax(settings: Settings, keys: AdapterKeys) -> EltaxAdapter:
    return EltaxAdapter(unsealer=HpkeUnsealer(_unsealing(keys)), sealer=HpkeSealer(keys.sealing))


def _nta(settings: Settings, keys: AdapterKeys) -> NtaAdapter:
    # The Agency's receipt carries no number: the adapter only opens what the hub sealed for it.
    return NtaAdapter(unsealer=HpkeUnsealer(_unsealing(keys)))


def _implementing_bodies(settings: Settings, keys: AdapterKeys) -> ImplementingBodiesAdapter:
    # A receipt names claims, never a number: the adapter only opens what the hub sealed for it.
    return ImplementingBodiesAdapter(unsealer=HpkeUnsealer(_unsealing(keys)))


def _pension(settings: Settings, keys: AdapterKeys) -> PensionAdapter:
    # Dependants' declarations carry numbers: the adapter seals them for the hub at once.
    directory = ExchangeDirectory(settings.wire_dir / "pension")
    return PensionAdapter(directory, chunk_records=settings.chunk_records, sealer=HpkeSealer(keys.sealing))


ADAPTER_SPECS: Final[Mapping[str, AdapterSpec]] = {
    spec.name: spec
    for spec in (
        AdapterSpec("jlis", "住基ネット/J-LIS: 生存異動照会, 個人番号の取得照会", _jlis, link=True),
        AdapterSpec(
            "intermediate_server",
            "中間サーバー: 符号取得, 情報照会, 副本登録",
            _intermediate_server,
            link=True,
        ),
        AdapterSpec("eltax", "eLTAX: 公的年金等支払報告書, 年金特徴", _eltax, link=True),
        AdapterSpec("nta", "国税庁: 公的年金等の源泉徴収票", _nta, link=True),
        AdapterSpec(
            "implementing_bodies", "他の実施機関: 年金請求書等の電子回付", _implementing_bodies, link=True
        ),
        AdapterSpec(
            "pension", "年金給付システム: 依頼・結果ファイル (ディレクトリ連携)", _pension, poller=_pension
        ),
    )
}
"""Every adapter renkei runs, in the order of :data:`hub.infra.broker.topology.ADAPTERS`."""


def adapter_spec(name: str) -> AdapterSpec:
    """The spec of adapter ``name``.

    Raises:
        ValueError: there is no such adapter.
    """
    return spec_named(ADAPTER_SPECS, name, "adapter")


def build_adapter_host(
    spec: AdapterSpec,
    settings: Settings,
    keys: AdapterKeys,
    transports: TransportFactory,
    group: ServiceGroup | None = None,
) -> ServiceGroup:
    """The threads of one adapter, added to ``group`` (which closes their transports at shutdown).

    Raises:
        ConfigurationError: ``keys`` are not this adapter's, or lack what it needs.
    """
    if keys.adapter != spec.name:
        raise ConfigurationError(f"the {spec.name} adapter was given the keys of {keys.adapter}")
    group = group or ServiceGroup()
    wiring = Wiring.of(settings)
    names = wiring.names
    service = adapter_service(spec.name)
    link = AeadLinkCipher(keys.link) if keys.link is not None else AeadLinkCipher()
    limits = body_limits(settings)

    def deps(transport_role: str) -> HostDeps:
        transport = group.own(transports(service, transport_role))
        return HostDeps(transport, wiring.exchanges, wiring.retry, link, limits)

    from_hub = deps("from-hub")
    host = AdapterHost(spec.build(settings, keys), from_hub)
    consume(group, service, from_hub.transport, names.adapter_queue(spec.name), host.from_hub, wiring=wiring)
    if spec.link:
        from_link = deps("link")
        linked = AdapterHost(spec.build(settings, keys), from_link)
        queue = names.counterpart_queue(spec.name, "inbound")
        consume(group, f"{service}-link", from_link.transport, queue, linked.from_counterpart, wiring=wiring)
    if spec.poller is not None:
        transport = group.own(transports(service, "poller"))
        poller = DirectoryPoller(spec.poller(settings, keys), transport, wiring.exchanges)
        group.every(f"{spec.name}-poller", POLL_INTERVAL_S, poller.poll_all)
    return group
