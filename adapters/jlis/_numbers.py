"""Invertible synthetic Individual Numbers: person index <-> number, without a table.

The 11-digit base of generation ``g`` is ``(index * P + OFFSET_g) mod 10**11``; ``P`` is coprime to
``10**11``, so the map is a bijection and ``index = (base - OFFSET_g) * P**-1 mod 10**11`` (a person of
the population when below its size). The twelfth digit is the check digit of the ordinance. Generation 0
is the number a person starts with, generation 1 the number after a change (番号法 第7条第2項).

``OFFSET_1 = OFFSET_0 + D * P`` with ``size <= D <= 10**11 - size``: the generation-1 number of person
``i`` is the generation-0 formula at ``i + D``, outside the population, so the two generations never
collide within it.
"""

from __future__ import annotations

from typing import Final

from contracts.individual_number import IndividualNumber, check_digit

__all__ = ["GENERATIONS", "NumberMap"]

MODULUS: Final = 10**11
_P: Final = 73_939_133_337  # odd and not a multiple of 5: coprime to 10**11
_P_INVERSE: Final = pow(_P, -1, MODULUS)
GENERATIONS: Final = (0, 1)


class NumberMap:
    """The numbers of ``size`` people, from two 64-bit draws (``offset_draw`` and ``shift_draw``)."""

    __slots__ = ("_offsets", "size")

    def __init__(self, size: int, offset_draw: int, shift_draw: int) -> None:
        if not 1 <= size <= MODULUS // 4:
            raise ValueError("the population does not fit the number space")
        self.size = size
        offset0 = offset_draw % MODULUS
        shift = size + shift_draw % (MODULUS - 2 * size + 1)  # in [size, MODULUS - size]
        self._offsets = (offset0, (offset0 + shift * _P) % MODULUS)

    def number(self, index: int, generation: int = 0) -> IndividualNumber:
        """The number of person ``index`` in ``generation`` (0 or 1)."""
        if not 0 <= index < self.size:
            raise IndexError("no such person in the population")
        if generation not in GENERATIONS:
            raise ValueError("a number's generation is 0 or 1")
        base = f"{(index * _P + self._offsets[generation]) % MODULUS:011d}"
        return IndividualNumber(base + str(check_digit(base)))

    def locate(self, number: IndividualNumber) -> tuple[int, int] | None:
        """The ``(index, generation)`` of ``number``, or ``None`` when nobody in the population has it."""
        base = int(number.reveal()[:11])
        for generation, offset in enumerate(self._offsets):
            index = (base - offset) * _P_INVERSE % MODULUS
            if index < self.size:
                return index, generation
        return None
