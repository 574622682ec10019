"""Planning a batch of links in memory, before the vault writes anything.

Planning reads what the vault knows about a batch (subjects of its usage numbers, holders of its numbers,
current numbers of its subjects) through the vault's own reads, decides every link here, and refuses the
whole batch on a conflict; the vault then writes the plan in chunks. Deciding the whole batch first means a
conflict is found before anything is written, and that two links of one batch that share a new number end
up on one subject. The SQL vault and its in-memory twin both plan here, so that they decide alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from contracts.ids import random_letters
from contracts.individual_number import IndividualNumber
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.core.rules.retention import longer_retention
from hub.ports.vault import NumberConflict, Retention, SubjectId

__all__ = [
    "EnrolPlan",
    "Holding",
    "LinkPlan",
    "new_subject_id",
    "plan_enrol",
    "plan_links",
    "plan_usage_numbers",
    "primary_rank",
]

_PRIMARY_ORDER: Final[Mapping[str, int]] = {
    UsageNumberKind.PENSION_CERTIFICATE: 0,
    UsageNumberKind.BASIC_PENSION: 1,
    UsageNumberKind.DEPENDANT: 2,
    UsageNumberKind.SAME_ADDRESS: 3,
}


def primary_rank(kind: str) -> int:
    """How ``kind`` ranks for a subject's primary usage number (lowest first).

    The pension certificate number first, then the basic pension number, the dependant key, the
    same-address key; any other kind last. Among several of one kind, the earliest linked wins.
    """
    return _PRIMARY_ORDER.get(kind, 9)


def new_subject_id() -> SubjectId:
    """A fresh subject id."""
    # Letters only (about 122 bits): a hex id would now and then hold a 12-digit run that passes the
    # check digit, and leak scanners could not tell it from a number.
    return SubjectId(random_letters(26))


@dataclass(frozen=True, slots=True)
class Holding:
    """A stored number row, as far as planning needs it (never the ciphertext)."""

    subject: SubjectId
    row_id: int
    is_current: bool
    retention: Retention


@dataclass(slots=True)
class _Retentions:
    """Retention updates of existing rows, merged when several links touch one row."""

    updates: dict[int, Retention] = field(default_factory=dict)

    def merge(self, holding: Holding, new: Retention) -> None:
        kept = self.updates.get(holding.row_id, holding.retention)
        merged = longer_retention(kept, new)
        if merged != holding.retention:
            self.updates[holding.row_id] = merged


@dataclass(slots=True)
class EnrolPlan:
    """What a vault's ``enrol`` writes."""

    result: dict[UsageNumber, SubjectId] = field(default_factory=dict)
    new_subjects: list[SubjectId] = field(default_factory=list)
    usage_inserts: list[tuple[SubjectId, UsageNumber]] = field(default_factory=list)
    number_inserts: list[tuple[SubjectId, IndividualNumber]] = field(default_factory=list)
    retention_updates: dict[int, Retention] = field(default_factory=dict)
    conflicts: list[UsageNumber] = field(default_factory=list)


def _normalise_enrol_links(
    links: Sequence[tuple[UsageNumber, IndividualNumber | None]],
) -> tuple[dict[UsageNumber, IndividualNumber | None], list[UsageNumber]]:
    """One number per usage number; a usage number given two different numbers is a conflict."""
    wanted: dict[UsageNumber, IndividualNumber | None] = {}
    conflicts: list[UsageNumber] = []
    for usage, number in links:
        known = wanted.get(usage)
        if usage not in wanted or known is None:
            wanted[usage] = number
        elif number is not None and number != known and usage not in conflicts:
            conflicts.append(usage)
    return wanted, conflicts


def plan_enrol(
    links: Sequence[tuple[UsageNumber, IndividualNumber | None]],
    retention: Retention,
    *,
    by_usage: Callable[[list[UsageNumber]], Mapping[UsageNumber, SubjectId]],
    holders: Callable[[list[IndividualNumber]], Mapping[IndividualNumber, Holding]],
    current: Callable[[list[SubjectId]], Mapping[SubjectId, Holding]],
) -> EnrolPlan:
    """Decide every link of an enrolment.

    Args:
        links: usage numbers and their numbers (or none), as given to the vault's ``enrol``.
        retention: the retention of the numbers linked.
        by_usage: the vault's subjects of usage numbers in force.
        holders: the vault's stored row (current preferred) of each number it knows.
        current: the vault's current number row of each subject.

    Raises:
        NumberConflict: a link would join two subjects or replace a number; nothing is to be written.
    """
    wanted, conflicts = _normalise_enrol_links(links)
    in_force = by_usage(list(wanted))
    planner = _EnrolPlanner(
        retention,
        holders([n for n in wanted.values() if n is not None]),
        current(list(set(in_force.values()))),
        new_subject_id,
    )
    # Known usage numbers first, so that a new usage number sharing their number joins their subject.
    for usage, number in sorted(wanted.items(), key=lambda item: item[0] not in in_force):
        subject = in_force.get(usage)
        if subject is not None:
            planner.known(usage, subject, number)
        else:
            planner.new(usage, number)
    planner.plan.retention_updates = planner.retentions.updates
    conflicts += planner.plan.conflicts
    if conflicts:
        raise NumberConflict(
            f"{len(conflicts)} link(s) would join two subjects or replace a number; nothing was written",
            usage=conflicts,
        )
    return planner.plan


class _EnrolPlanner:
    def __init__(
        self,
        retention: Retention,
        holders: Mapping[IndividualNumber, Holding],
        current: Mapping[SubjectId, Holding],
        new_id: Callable[[], SubjectId],
    ) -> None:
        self.plan = EnrolPlan()
        self.retentions = _Retentions()
        self._retention = retention
        self._holders = holders
        self._current = current
        self._new_id = new_id
        self._assigned: dict[IndividualNumber, SubjectId] = {}  # numbers this batch links
        self._linking: dict[SubjectId, IndividualNumber] = {}

    def known(self, usage: UsageNumber, subject: SubjectId, number: IndividualNumber | None) -> None:
        """A usage number in force: its subject keeps its number, or gets its first one."""
        self.plan.result[usage] = subject
        if number is None:
            return
        holding = self._holders.get(number)
        if holding is not None:
            if holding.subject == subject and holding.is_current:
                self.retentions.merge(holding, self._retention)
            else:
                self.plan.conflicts.append(usage)
            return
        if (
            subject in self._current  # it has another number: a change goes through link_number
            or self._assigned.get(number, subject) != subject
            or self._linking.get(subject, number) != number
        ):
            self.plan.conflicts.append(usage)
        elif number not in self._assigned:
            self._assigned[number] = subject
            self._linking[subject] = number
            self.plan.number_inserts.append((subject, number))

    def new(self, usage: UsageNumber, number: IndividualNumber | None) -> None:
        """A new usage number: joins the subject of its number, or makes a new subject."""
        holding = self._holders.get(number) if number is not None else None
        if holding is not None:
            if not holding.is_current:  # an earlier number of someone: never attach to it silently
                self.plan.conflicts.append(usage)
                return
            subject = holding.subject
            self.retentions.merge(holding, self._retention)
        elif number is not None and number in self._assigned:
            subject = self._assigned[number]
        else:
            subject = self._new_id()
            self.plan.new_subjects.append(subject)
            if number is not None:
                self._assigned[number] = subject
                self.plan.number_inserts.append((subject, number))
        self.plan.result[usage] = subject
        self.plan.usage_inserts.append((subject, usage))


@dataclass(slots=True)
class LinkPlan:
    """What a vault's ``link_numbers`` writes."""

    to_history: list[int] = field(default_factory=list)
    number_inserts: list[tuple[SubjectId, IndividualNumber]] = field(default_factory=list)
    retention_updates: dict[int, Retention] = field(default_factory=dict)
    conflicts: list[SubjectId] = field(default_factory=list)


def plan_links(
    links: Sequence[tuple[SubjectId, IndividualNumber]],
    retention: Retention,
    *,
    holders: Callable[[list[IndividualNumber]], Mapping[IndividualNumber, Holding]],
    current: Callable[[list[SubjectId]], Mapping[SubjectId, Holding]],
) -> LinkPlan:
    """Decide every (re)link: a subject's different current number moves to history (番号法 7条2項).

    ``holders`` and ``current`` are the vault's reads, as for :func:`plan_enrol`.

    Raises:
        NumberConflict: a number belongs to another subject; nothing is to be written.
    """
    plan = LinkPlan()
    retentions = _Retentions()
    held = holders([n for _, n in links])
    current_rows = current(list({s for s, _ in links}))
    wanted: dict[SubjectId, IndividualNumber] = {}
    owner: dict[IndividualNumber, SubjectId] = {}
    for subject, number in links:
        if wanted.get(subject, number) != number or owner.get(number, subject) != subject:
            plan.conflicts.append(subject)
            continue
        wanted[subject], owner[number] = number, subject
    for subject, number in wanted.items():
        if subject in plan.conflicts:
            continue
        holding = held.get(number)
        if holding is not None and holding.subject != subject:
            plan.conflicts.append(subject)
        elif holding is not None and holding.is_current:
            retentions.merge(holding, retention)
        else:
            # New to this subject, or one of its earlier numbers again: the current one becomes history.
            if subject in current_rows:
                plan.to_history.append(current_rows[subject].row_id)
            plan.number_inserts.append((subject, number))
    plan.retention_updates = retentions.updates
    if plan.conflicts:
        raise NumberConflict(
            f"{len(plan.conflicts)} number(s) belong to another subject; nothing was written",
            subjects=plan.conflicts,
        )
    return plan


def plan_usage_numbers(
    links: Sequence[tuple[SubjectId, UsageNumber]],
    *,
    by_usage: Callable[[list[UsageNumber]], Mapping[UsageNumber, SubjectId]],
) -> list[tuple[SubjectId, UsageNumber]]:
    """The usage numbers to add of ``links`` (those already in force for their subject are kept as they are).

    ``by_usage`` is the vault's read of subjects of usage numbers in force.

    Raises:
        NumberConflict: a usage number is given to two subjects, or is in force for another subject.
    """
    owner: dict[UsageNumber, SubjectId] = {}
    conflicts: list[UsageNumber] = []
    for subject, usage in links:
        if owner.setdefault(usage, subject) != subject:
            conflicts.append(usage)
    in_force = by_usage(list(owner))
    conflicts += [u for u, s in owner.items() if in_force.get(u, s) != s]
    if conflicts:
        raise NumberConflict(
            f"{len(conflicts)} usage number(s) are in force for another subject", usage=conflicts
        )
    return [(s, u) for u, s in owner.items() if u not in in_force]
