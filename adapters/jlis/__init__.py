"""The J-LIS adapter (住基ネット / 地方公共団体情報システム機構) and its simulator.

The survival/change inquiry (生存異動照会): :class:`JlisAdapter` turns the hub's inquiry into a J-LIS
request file and a result file into the result message; :class:`JlisSimulator` answers request files from
a :class:`SyntheticPopulation`. Number acquisition by 基本4情報 (個人番号の取得照会) goes the same way with
query files (:mod:`adapters.jlis.wire_acquisition`), answered from a :class:`NewEntitlementRegister`. The
wire formats are modelled on public facts pending the official J-LIS specification; see
``docs/formats/jlis.md``.
"""

from adapters.jlis.errors import JlisFileError, JlisMappingError, JlisPurposeRefused, JlisWireError
from adapters.jlis.mapping import JLIS_PURPOSE, result_message_id
from adapters.jlis.mapping_acquisition import ACQUISITION_PURPOSE
from adapters.jlis.names import (
    COUNTERPART,
    check_pairing,
    flow_of,
    request_file_name,
    result_file_name,
)
from adapters.jlis.population import PersonOutcome, Rates, SyntheticPerson, SyntheticPopulation, cycle_window
from adapters.jlis.register import NewEntitlement, NewEntitlementRegister, RegisterPerson, RegisterRates
from adapters.jlis.service import JlisAdapter
from adapters.jlis.simulator import JlisSimulator
from adapters.jlis.wire import (
    BatchHeader,
    RequestFile,
    RequestRecord,
    ResultFile,
    ResultRecord,
    parse_request,
    parse_result,
    write_request,
    write_result,
)

__all__ = [
    "ACQUISITION_PURPOSE",
    "COUNTERPART",
    "JLIS_PURPOSE",
    "BatchHeader",
    "JlisAdapter",
    "JlisFileError",
    "JlisMappingError",
    "JlisPurposeRefused",
    "JlisSimulator",
    "JlisWireError",
    "NewEntitlement",
    "NewEntitlementRegister",
    "PersonOutcome",
    "Rates",
    "RegisterPerson",
    "RegisterRates",
    "RequestFile",
    "RequestRecord",
    "ResultFile",
    "ResultRecord",
    "SyntheticPerson",
    "SyntheticPopulation",
    "check_pairing",
    "cycle_window",
    "flow_of",
    "parse_request",
    "parse_result",
    "request_file_name",
    "result_file_name",
    "result_message_id",
    "write_request",
    "write_result",
]
