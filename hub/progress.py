"""How renkei shows long work on a terminal: bars that name the work and count what is done of the total.

Shared by the commands (``renkei keys rewrap``, ``retention run``, ``bench``) and the demo's wait for its
flows, so that every progress bar reads alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

__all__ = ["StageTick", "counting_bars", "stage_bars"]

StageTick = Callable[[str, int, int], None]
"""``tick(stage, done, total)``: how far one stage of the work is."""


def counting_bars(
    console: Console | None,
    *,
    description: str = "{task.description}",
    transient: bool = False,
    disable: bool = False,
) -> Progress:
    """Bars on ``console``: what each task is (``description``), the bar, done of total, the time taken."""
    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
        disable=disable,
    )


@contextmanager
def stage_bars(console: Console, labels: Mapping[str, str]) -> Iterator[StageTick]:
    """A bar per stage, added when the stage first ticks and named by ``labels`` (else by the stage)."""
    with counting_bars(console) as bar:
        tasks: dict[str, TaskID] = {}

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=max(total, done))
            bar.update(tasks[stage], completed=done, total=max(total, done))

        yield tick
