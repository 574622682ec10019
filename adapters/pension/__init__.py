"""The pension adapter: renkei's edge to the federation's pension benefit system (年金給付システム).

The pension system exchanges UTF-8 CSV files with manifests through a directory (docs/formats/pension.md)
and never sees an Individual Number. :class:`PensionAdapter` turns complete request files into
``pension.survival_inquiry.requested`` messages and writes ``pension.survival_check.outcomes`` back as
outcome files; :class:`PensionSystemSimulator` plays the pension system in the demo and the tests.
"""

from adapters.pension.directory import ExchangeDirectory, InboundFile, Rejection
from adapters.pension.errors import (
    AcknowledgeRefused,
    DirectoryLinkOnly,
    IndividualNumberInFile,
    MalformedPensionFile,
    OutcomeFileConflict,
    PensionDirectoryUnavailable,
    PensionFileProblem,
    Reason,
)
from adapters.pension.mapping import SURVIVAL_CHECK_PURPOSE
from adapters.pension.service import PensionAdapter
from adapters.pension.simulator import PensionSystemSimulator
from adapters.pension.wire import InquiryManifest, InquiryRow, OutcomeManifest, OutcomeRow

__all__ = [
    "SURVIVAL_CHECK_PURPOSE",
    "AcknowledgeRefused",
    "DirectoryLinkOnly",
    "ExchangeDirectory",
    "InboundFile",
    "IndividualNumberInFile",
    "InquiryManifest",
    "InquiryRow",
    "MalformedPensionFile",
    "OutcomeFileConflict",
    "OutcomeManifest",
    "OutcomeRow",
    "PensionAdapter",
    "PensionDirectoryUnavailable",
    "PensionFileProblem",
    "PensionSystemSimulator",
    "Reason",
    "Rejection",
]
