"""Errors of the eLTAX adapter, each a subclass of the one hierarchy in :mod:`contracts.errors`.

Every message names a file kind, a record (line) and a field, never a value: an eLTAX file holds
Individual Numbers in the clear, and the value at fault may be one.

::

    WireFormatError
    ├── EltaxWireError          a file or record breaks its layout (file kind, record and field named)
    │   └── EltaxFieldRefused   a value the layout forbids, caught *before* the file is written and sent
    └── EltaxFileError          a file that is not ours: bad name, unpaired receipt, wrong direction
    ValidationFailed
    └── EltaxMappingError       a well-formed record that the contract still refuses
"""

from __future__ import annotations

from typing import Self

from adapters.records.fields import Problem
from contracts.errors import ValidationFailed, WireFormatError

__all__ = ["EltaxFieldRefused", "EltaxFileError", "EltaxMappingError", "EltaxWireError"]


class EltaxWireError(WireFormatError):
    """An eLTAX file breaks its layout.

    Attributes:
        file_kind: which layout (``payment report``, ``special collection notice``, ``receipt``).
        record_no: 1-based record (line) in the file, or ``None`` for the file as a whole.
        field: the layout field at fault, or ``None`` when the record as a whole is at fault.
        problem: the rule broken (never the value).
    """

    code = "eltax_wire_format"

    def __init__(
        self,
        problem: str,
        *,
        file_kind: str = "file",
        record_no: int | None = None,
        field: str | None = None,
    ) -> None:
        where = file_kind if record_no is None else f"{file_kind} record #{record_no}"
        if field is not None:
            where += f", field {field}"
        super().__init__(f"eLTAX {where}: {problem}")
        self.file_kind = file_kind
        self.record_no = record_no
        self.field = field
        self.problem = problem

    @classmethod
    def of(cls, problem: Problem, file_kind: str, record_no: int | None = None) -> Self:
        """The error of ``problem`` in record ``record_no`` (``None``: the file) of a ``file_kind`` file.

        The layout engines and the adapter's own rules report a :class:`~adapters.records.fields.Problem`;
        this names its field the way every eLTAX error does.
        """
        return cls(problem.text, file_kind=file_kind, record_no=record_no, field=problem.where)


class EltaxFieldRefused(EltaxWireError):
    """A value the layout forbids, found while writing: nothing was written, nothing leaves.

    Raised by the writers, so the adapter dead-letters the message before any file goes to eLTAX.
    """

    code = "eltax_field_refused"


class EltaxFileError(WireFormatError):
    """A file that does not belong to the eLTAX exchange: its name, pairing or direction is wrong."""

    code = "eltax_unexpected_file"


class EltaxMappingError(ValidationFailed):
    """A record that parses but does not fit the message contract."""

    code = "eltax_mapping"
