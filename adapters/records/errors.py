"""The error of a counterpart's file that breaks its layout, said the same way by every adapter.

An adapter subclasses :class:`LayoutError` with its error code and the words its counterpart's
specification uses (``eLTAX … record #3, field name``; ``NTA … line #3, item name``). The message names
the file kind, the record and the field, never a value: the files hold Individual Numbers in the clear.
"""

from __future__ import annotations

from typing import ClassVar, Self

from adapters.records.fields import Problem
from contracts.errors import WireFormatError

__all__ = ["LayoutError"]


class LayoutError(WireFormatError):
    """A counterpart's file breaks its layout (permanent).

    Attributes:
        file_kind: which layout (``file`` when the adapter has one kind only).
        record_no: 1-based record (line) in the file, or ``None`` for the file as a whole.
        field: the layout field at fault, or ``None`` when the record as a whole is at fault.
        problem: the rule broken (never the value).
    """

    counterpart: ClassVar[str]
    """How the message names the counterpart (``eLTAX``, ``NTA``, ``J-LIS``)."""
    record_word: ClassVar[str] = "record"
    field_word: ClassVar[str] = "field"

    def __init__(
        self,
        problem: str,
        *,
        file_kind: str = "file",
        record_no: int | None = None,
        field: str | None = None,
    ) -> None:
        where = file_kind if record_no is None else f"{file_kind} {self.record_word} #{record_no}"
        if field is not None:
            where += f", {self.field_word} {field}"
        super().__init__(f"{self.counterpart} {where}: {problem}")
        self.file_kind = file_kind
        self.record_no = record_no
        self.field = field
        self.problem = problem

    @classmethod
    def of(cls, problem: Problem, file_kind: str = "file", record_no: int | None = None) -> Self:
        """The error of ``problem`` in record ``record_no`` (``None``: the file) of a ``file_kind`` file.

        The layout engines and the adapter's own rules report a :class:`~adapters.records.fields.Problem`;
        this names its field the way every error of the adapter does.
        """
        return cls(problem.text, file_kind=file_kind, record_no=record_no, field=problem.where)
