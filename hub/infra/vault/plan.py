"""Planning a batch of links in memory, before the vault writes anything.

The vault first reads what it knows about a batch (subjects of its usage numbers, holders of its numbers,
current numbers of its subjects), then decides every link here, then writes in chunks. Deciding the whole
batch first means a conflict is found before anything is written, and that two links of one batch that
share a new number end up on one subject.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from contracts.individual_number import IndividualNumber
from contracts.usage_number import UsageNumber
from hub.core.rules.retention import longer_retention
from hub.ports.vault import Retention, SubjectId

__all__ = ["EnrolPlan", "Holding", "LinkPlan", "normalise_enrol_links", "plan_enrol", "plan_links"]


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
    """What :meth:`SqlVault.enrol` will write."""

    result: dict[UsageNumber, SubjectId] = field(default_factory=dict)
    new_subjects: list[SubjectId] = field(default_factory=list)
    usage_inserts: list[tuple[SubjectId, UsageNumber]] = field(default_factory=list)
    number_inserts: list[tuple[SubjectId, IndividualNumber]] = field(default_factory=list)
    retention_updates: dict[int, Retention] = field(default_factory=dict)
    conflicts: list[UsageNumber] = field(default_factory=list)


def normalise_enrol_links(
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
    wanted: Mapping[UsageNumber, IndividualNumber | None],
    retention: Retention,
    *,
    by_usage: Mapping[UsageNumber, SubjectId],
    holders: Mapping[IndividualNumber, Holding],
    current: Mapping[SubjectId, Holding],
    new_id: Callable[[], SubjectId],
) -> EnrolPlan:
    """Decide every link of an enrolment.

    Args:
        wanted: the normalised links.
        retention: the retention of the numbers linked.
        by_usage: subjects of the usage numbers in force.
        holders: the stored row (current preferred) of each number of the batch the vault knows.
        current: the current number row of each subject in ``by_usage``.
        new_id: makes a fresh subject id.
    """
    planner = _EnrolPlanner(retention, holders, current, new_id)
    # Known usage numbers first, so that a new usage number sharing their number joins their subject.
    for usage, number in sorted(wanted.items(), key=lambda item: item[0] not in by_usage):
        subject = by_usage.get(usage)
        if subject is not None:
            planner.known(usage, subject, number)
        else:
            planner.new(usage, number)
    planner.plan.retention_updates = planner.retentions.updates
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
    """What :meth:`SqlVault.link_numbers` will write."""

    to_history: list[int] = field(default_factory=list)
    number_inserts: list[tuple[SubjectId, IndividualNumber]] = field(default_factory=list)
    retention_updates: dict[int, Retention] = field(default_factory=dict)
    conflicts: list[SubjectId] = field(default_factory=list)


def plan_links(
    links: Sequence[tuple[SubjectId, IndividualNumber]],
    retention: Retention,
    *,
    holders: Mapping[IndividualNumber, Holding],
    current: Mapping[SubjectId, Holding],
) -> LinkPlan:
    """Decide every (re)link: a subject's different current number moves to history (番号法 7条2項)."""
    plan = LinkPlan()
    retentions = _Retentions()
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
        holding = holders.get(number)
        if holding is not None and holding.subject != subject:
            plan.conflicts.append(subject)
        elif holding is not None and holding.is_current:
            retentions.merge(holding, retention)
        else:
            # New to this subject, or one of its earlier numbers again: the current one becomes history.
            if subject in current:
                plan.to_history.append(current[subject].row_id)
            plan.number_inserts.append((subject, number))
    plan.retention_updates = retentions.updates
    return plan
