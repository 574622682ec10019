"""The routing table's typed handlers: each names the payload model the registry gives its key.

Handlers are typed by their payload (``Decoded[SurvivalInquiryRequested]``) and narrowed once, by the table
entry, instead of asserting the payload's class inside every handler.
"""

from __future__ import annotations

import pytest

from contracts.envelope import Envelope
from contracts.errors import UnknownMessageType
from contracts.messages.eltax import EltaxReceipt
from contracts.messages.survival import SurvivalInquiryRequested
from contracts.registry import Decoded, decode, encode, payload_model
from hub.core.flows.context import HandlerContext
from hub.core.runtime.routing import HANDLERS, PREFETCHERS, Typed, TypedPrefetch
from tests.unit.test_registry import _request


@pytest.mark.parametrize("key", sorted(HANDLERS))
def test_every_handler_is_typed_by_the_model_its_key_decodes_to(key):
    handler = HANDLERS[key]
    assert isinstance(handler, Typed)
    assert handler.model is payload_model(*key)


@pytest.mark.parametrize("key", sorted(PREFETCHERS))
def test_every_prefetcher_is_typed_by_the_model_its_key_decodes_to(key):
    prefetcher = PREFETCHERS[key]
    assert isinstance(prefetcher, TypedPrefetch)
    assert prefetcher.model is payload_model(*key)


def test_a_handler_gets_its_message_narrowed_to_its_model():
    seen: list[str] = []

    def handle(message: Decoded[SurvivalInquiryRequested], ctx: HandlerContext) -> list[Envelope]:
        seen.append(message.payload.cycle)
        return []

    handler = Typed(SurvivalInquiryRequested, handle)
    decoded = decode(encode(_request(2)))
    assert handler(decoded, None) == []  # type: ignore[arg-type]  # no context: the handler reads none
    assert seen == ["2026-12"]


def test_a_message_of_another_model_is_refused_as_a_contract_error_not_handled():
    called: list[Decoded[EltaxReceipt]] = []

    def handle(message: Decoded[EltaxReceipt], ctx: HandlerContext) -> list[Envelope]:
        called.append(message)
        return []

    handler = Typed(EltaxReceipt, handle)
    decoded = decode(encode(_request(1)))
    with pytest.raises(UnknownMessageType, match=r"v1 is not a EltaxReceipt"):
        handler(decoded, None)  # type: ignore[arg-type]  # no context: refused before any is read
    assert called == []
