"""The intermediate server adapter (中間サーバー / 情報提供ネットワークシステム) and its simulator.

:class:`IntermediateServerAdapter` turns the hub's code acquisition requests, queries and 副本 changes into
the network's files and the network's files (code results, query receptions and late answers, 副本 results,
provision notices) into messages for the hub. :class:`IntermediateServerSimulator` plays the network and
several municipalities. The wire format (:mod:`adapters.intermediate_server.wire`) is modelled on public
facts pending the official interface specification; see ``docs/formats/intermediate_server.md``.
"""

from adapters.intermediate_server._municipal import (
    DEMO_MUNICIPALITIES,
    DEMO_PERMISSIONS,
    LOCAL_TAX_SPI,
    PENSION_SPI,
    RESIDENT_RECORD_SPI,
    Municipality,
    Permission,
    Requester,
)
from adapters.intermediate_server.errors import IsFileError, IsMappingError, IsWireError, ProviderUnavailable
from adapters.intermediate_server.mapping import inbound_message_id
from adapters.intermediate_server.names import (
    ANSWERS,
    COUNTERPART,
    check_pairing,
    file_name,
    parse_name,
)
from adapters.intermediate_server.service import IntermediateServerAdapter
from adapters.intermediate_server.simulator import MESSAGES, IntermediateServerSimulator
from adapters.intermediate_server.wire import LAYOUTS, FileHeader, parse, write

__all__ = [
    "ANSWERS",
    "COUNTERPART",
    "DEMO_MUNICIPALITIES",
    "DEMO_PERMISSIONS",
    "LAYOUTS",
    "LOCAL_TAX_SPI",
    "MESSAGES",
    "PENSION_SPI",
    "RESIDENT_RECORD_SPI",
    "FileHeader",
    "IntermediateServerAdapter",
    "IntermediateServerSimulator",
    "IsFileError",
    "IsMappingError",
    "IsWireError",
    "Municipality",
    "Permission",
    "ProviderUnavailable",
    "Requester",
    "check_pairing",
    "file_name",
    "inbound_message_id",
    "parse",
    "parse_name",
    "write",
]
