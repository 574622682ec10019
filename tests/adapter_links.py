"""The counterparts' side of the links, carried in process: tests hand files to a simulator and back.

In a deployment the hub's runtime carries :class:`~contracts.link.CounterpartFile` objects over an
encrypted link (``counterpart.<name>.outbound`` / ``.inbound``). Unit tests skip the broker: these
in-process links give a request file to a counterpart (a simulator), and check that every answer pairs up
with its request by the adapter's own naming rules (``adapters/<counterpart>/names.py``). They are test
tools, not part of any adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from adapters.eltax import names as eltax_names
from adapters.eltax.errors import EltaxFileError
from adapters.implementing_bodies import names as ib_names
from adapters.implementing_bodies.errors import IbFileError
from adapters.intermediate_server import names as is_names
from adapters.intermediate_server.errors import IsFileError
from adapters.jlis import names as jlis_names
from adapters.nta import names as nta_names
from adapters.nta.errors import NtaFileError
from contracts.link import CounterpartFile

__all__ = [
    "EltaxCounterpart",
    "EltaxGateway",
    "ImplementingBodiesGateway",
    "IntermediateServerCounterpart",
    "IntermediateServerGateway",
    "JlisCounterpart",
    "JlisGateway",
    "NtaCounterpart",
    "NtaGateway",
]


class JlisCounterpart(Protocol):
    """What the J-LIS side of the link offers: the real network's file exchange, or the simulator.

    It answers a request file with its result file(s), named by :func:`result_file_name` and carrying
    the request's correlation id.
    """

    name: str

    def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
        """Answer one request file."""
        ...


class JlisGateway:
    """Carries request files to a counterpart in process, and checks that every answer pairs up.

    The hub's runtime does the same over its encrypted link; this in-process form serves the tests,
    where the counterpart is :class:`~adapters.jlis.simulator.JlisSimulator`.
    """

    def __init__(self, counterpart: JlisCounterpart) -> None:
        self._counterpart = counterpart

    def exchange(self, request: CounterpartFile) -> list[CounterpartFile]:
        """Send ``request`` and return the answers.

        Raises:
            JlisFileError: the request is not a J-LIS request file, or an answer does not pair with it.
        """
        jlis_names.request_id_of(request.name, "request")
        jlis_names.correlation_of(request)
        answers = self._counterpart.handle(request)
        for answer in answers:
            jlis_names.check_pairing(request, answer)
        return answers


class EltaxCounterpart(Protocol):
    """What the eLTAX side of the link offers: the real exchange, or the simulator.

    It answers each file the federation submits with its receipt and any notices the municipalities send
    in reply, all carrying the submission's correlation id.
    """

    name: str

    def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
        """Answer one submitted file."""
        ...


class EltaxGateway:
    """Carries files to a counterpart in process and checks that every answer pairs up (tests)."""

    def __init__(self, counterpart: EltaxCounterpart) -> None:
        self._counterpart = counterpart

    def exchange(self, submission: CounterpartFile) -> list[CounterpartFile]:
        """Submit a file and return the answers.

        Raises:
            EltaxFileError: the file is not one the federation submits, or an answer does not pair with it.
        """
        if not eltax_names.outbound(eltax_names.parse_name(submission.name)):
            raise EltaxFileError("the federation does not submit this file")
        eltax_names.correlation_of(submission)
        answers = self._counterpart.handle(submission)
        for answer in answers:
            eltax_names.check_pairing(submission, answer)
        return answers


class IntermediateServerCounterpart(Protocol):
    """What the network side of the link offers: the real intermediate server, or the simulator.

    It answers a request file at once with zero or more files, and releases later answers (and its own
    notices) when time passes: :meth:`tick` returns them until :meth:`confirm` says they were carried.
    """

    name: str

    def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
        """Answer one request file at once."""
        ...

    def tick(self) -> list[CounterpartFile]:
        """Let time pass; return every released file not yet confirmed."""
        ...

    def confirm(self, names: Sequence[str]) -> None:
        """These released files were carried: stop returning them."""
        ...


class IntermediateServerGateway:
    """Carries files to a counterpart in process and checks that every immediate answer pairs up.

    The hub's runtime does the same over its encrypted link; this in-process form serves the tests,
    where the counterpart is the simulator.
    """

    def __init__(self, counterpart: IntermediateServerCounterpart) -> None:
        self._counterpart = counterpart

    def exchange(self, request: CounterpartFile) -> list[CounterpartFile]:
        """Send ``request`` and return the immediate answers.

        Raises:
            IsFileError: the request is not a request file, or an answer does not pair with it.
            ProviderUnavailable: the provider is down (try again later).
        """
        kind, _, _ = is_names.parse_name(request.name)
        if kind not in is_names.ANSWERS:
            raise IsFileError("only request files go to the intermediate server")
        is_names.correlation_of(request)
        answers = self._counterpart.handle(request)
        for answer in answers:
            is_names.check_pairing(request, answer)
        return answers

    def tick(self) -> list[CounterpartFile]:
        """Let time pass and take what the counterpart released (late answers, notices)."""
        released = self._counterpart.tick()
        for file in released:
            is_names.parse_name(file.name)
            is_names.correlation_of(file)
        self._counterpart.confirm([f.name for f in released])
        return released


class NtaCounterpart(Protocol):
    """What the National Tax Agency's side of the link offers: e-Tax, or the simulator.

    It answers each withholding-slip file the federation submits with its receipt, carrying the
    submission's correlation id.
    """

    name: str

    def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
        """Answer one submitted file."""
        ...


class NtaGateway:
    """Carries withholding-slip files to a counterpart in process and checks that every answer pairs up."""

    def __init__(self, counterpart: NtaCounterpart) -> None:
        self._counterpart = counterpart

    def exchange(self, submission: CounterpartFile) -> list[CounterpartFile]:
        """Submit a file and return the answers.

        Raises:
            NtaFileError: the file is not one the federation submits, or an answer does not pair with it.
        """
        if nta_names.parse_name(submission.name).kind != "submission":
            raise NtaFileError("the federation does not submit this file")
        nta_names.correlation_of(submission)
        answers = self._counterpart.handle(submission)
        for answer in answers:
            nta_names.check_pairing(submission, answer)
        return answers


class ImplementingBodiesGateway:
    """Carries forwarding files to the other implementing bodies in process; every answer must pair up."""

    def __init__(self, counterpart: NtaCounterpart) -> None:
        self._counterpart = counterpart

    def exchange(self, forwarding: CounterpartFile) -> list[CounterpartFile]:
        """Forward a file and return the answers.

        Raises:
            IbFileError: the file is not one a 構成組合 forwards, or an answer does not pair with it.
        """
        if ib_names.parse_name(forwarding.name).kind != "forwarding":
            raise IbFileError("the federation does not forward this file")
        ib_names.correlation_of(forwarding)
        answers = self._counterpart.handle(forwarding)
        for answer in answers:
            ib_names.check_pairing(forwarding, answer)
        return answers
