"""The Individual Number (個人番号) as a value that cannot leak by accident.

An :class:`IndividualNumber` accepts only twelve ASCII digits whose last digit is the check digit of the
ordinance (平成26年総務省令第85号 第5条). It never shows its digits in ``repr``, ``str``, f-strings, logs,
pydantic validation errors or JSON dumps: the digits come out only through :meth:`IndividualNumber.reveal`,
which the vault and the adapters' wire writers call, and nothing else should.

Finding numbers in text and bytes (to refuse or redact them) is :mod:`contracts.redaction`'s job.
"""

from __future__ import annotations

import secrets
from operator import mul
from typing import Any, ClassVar, Final

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

__all__ = [
    "IndividualNumber",
    "check_digit",
    "is_valid_individual_number",
    "synthetic_individual_number",
]

# Left-to-right weights of the 11-digit base (n = 1 at the rightmost digit: Q = n+1 up to 6, then n-5).
_WEIGHTS: Final = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_CODE_OFFSET: Final = ord("0") * sum(_WEIGHTS)


def check_digit(base11: str) -> int:
    """Return the check digit of an 11-digit base.

    Args:
        base11: eleven ASCII digits.

    Raises:
        ValueError: when ``base11`` is not eleven ASCII digits.
    """
    if len(base11) != 11 or not base11.isascii() or not base11.isdigit():
        raise ValueError("the base of an Individual Number is eleven ASCII digits")
    # On the ASCII codes (digit + 48) and one subtraction: a quarter of the time of int() per digit, and
    # the hub checks every number it decrypts.
    remainder = (sum(map(mul, base11.encode("ascii"), _WEIGHTS)) - _CODE_OFFSET) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_individual_number(text: str) -> bool:
    """Tell whether ``text`` is twelve ASCII digits with a valid check digit."""
    return len(text) == 12 and text.isascii() and text.isdigit() and check_digit(text[:11]) == int(text[11])


class IndividualNumber:
    """A validated 個人番号 that keeps its digits to itself."""

    __slots__ = ("_digits",)
    MASK: ClassVar[str] = "個人番号(************)"

    def __init__(self, digits: str) -> None:
        if not isinstance(digits, str) or not is_valid_individual_number(digits):
            # The message names the rule, never the value.
            raise ValueError("an Individual Number is 12 ASCII digits with a valid check digit")
        self._digits = digits

    def reveal(self) -> str:
        """Return the twelve digits. Only the vault and the adapters' wire writers may call this."""
        return self._digits

    def __repr__(self) -> str:
        return "IndividualNumber(<redacted>)"

    def __str__(self) -> str:
        return self.MASK

    def __format__(self, spec: str) -> str:
        return self.MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IndividualNumber) and secrets.compare_digest(self._digits, other._digits)

    def __hash__(self) -> int:
        return hash(("IndividualNumber", self._digits))

    def __reduce__(self) -> Any:
        raise TypeError("an IndividualNumber is never pickled")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> IndividualNumber:
            if isinstance(value, IndividualNumber):
                return value
            if not isinstance(value, str) or not is_valid_individual_number(value):
                raise PydanticCustomError(
                    "individual_number", "must be 12 ASCII digits with a valid check digit"
                )
            return cls(value)

        # Serialising to JSON would write the digits: refuse, so that a number can only leave sealed.
        def refuse(value: IndividualNumber) -> str:
            raise PydanticCustomError(
                "individual_number_serialisation", "an Individual Number is never serialised; seal it"
            )

        return core_schema.no_info_plain_validator_function(
            validate,
            json_schema_input_schema=core_schema.str_schema(pattern=r"^[0-9]{12}$"),
            serialization=core_schema.plain_serializer_function_ser_schema(refuse),
        )


def synthetic_individual_number(rng: secrets.SystemRandom | Any | None = None) -> IndividualNumber:
    """Make a synthetic number with a valid check digit, for simulators and tests only.

    Args:
        rng: a ``random.Random``-like source (``randrange``); defaults to the system's.
    """
    source = rng or secrets.SystemRandom()
    base = "".join(str(source.randrange(10)) for _ in range(11))
    return IndividualNumber(base + str(check_digit(base)))
