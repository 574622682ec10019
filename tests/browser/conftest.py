"""The console in a real browser: Debian's headless Chromium driven by Playwright, on a server in a thread.

The server is uvicorn on 127.0.0.1 and a free port, in a daemon thread, stopped after the module. The
browser is ``/usr/bin/chromium`` (``scripts/ensure-chromium.sh`` installs it); Playwright never downloads one.
Without it the tests skip on a developer machine and fail under ``CI``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.console_fixtures import ConsoleWorld, make_world

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """A console world served over HTTP."""

    def __init__(self, world: ConsoleWorld, url: str) -> None:
        self.world = world
        self.url = url


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    world = make_world(tmp_path_factory.mktemp("console-browser"))
    world.app.state.console.sampler.sample()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="console-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    if not server.started:
        pytest.fail("the console did not start within 20 s")
    yield Served(world, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(20)
    world.hub.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        message = "no /usr/bin/chromium (scripts/ensure-chromium.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
