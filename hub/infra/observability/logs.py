"""Structured logging: one JSON object per line, with message id, type and correlation id.

Log calls in the code use the standard library (``log.info("...", extra={...})``); this module renders
them through structlog. As a last line of defence every rendered line passes the redactor, so that even a
mistaken log call cannot write an Individual Number.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Any

import structlog

from contracts.redaction import redact_text
from hub.settings import Environment, Settings

__all__ = ["configure_logging", "configure_logging_from", "log_file_of"]


class _RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def configure_logging(
    level: str = "INFO",
    *,
    json: bool = True,
    file: Path | None = None,
    stderr: bool = True,
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
) -> None:
    """Route every log record through structlog's renderer (JSON or console) to stderr and ``file``.

    ``file`` is rotated when it reaches ``max_bytes``, keeping ``backups`` older files
    (``renkei.log.1`` ... ``renkei.log.N``): a process never fills its disk (or, in a container, the memory
    of its tmpfs) with logs.
    """
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = _RedactingFormatter(
        processor=renderer,
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
        ],
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)] if stderr else []
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
            )
        )
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("pika").setLevel(logging.WARNING)


def log_file_of(settings: Settings, *, stderr: bool) -> Path | None:
    """Where a process logs besides stderr: ``log_file`` when set.

    Unset, logs go to stderr alone, which container runtimes collect. An interactive command that keeps
    stderr for its own progress (``renkei demo``, ``renkei console``) logs in development to
    ``data_dir/logs/renkei.log`` instead; in production it still logs to stderr.
    """
    if settings.log_file is not None:
        return settings.log_file
    if not stderr and settings.environment is Environment.DEVELOPMENT:
        return settings.data_dir / "logs" / "renkei.log"
    return None


def configure_logging_from(settings: Settings, *, stderr: bool = True) -> None:
    """:func:`configure_logging` as the settings say (file, rotation, level, format)."""
    file = log_file_of(settings, stderr=stderr)
    configure_logging(
        settings.log_level,
        json=settings.log_json,
        file=file,
        stderr=stderr or file is None,
        max_bytes=settings.log_file_max_bytes,
        backups=settings.log_file_backups,
    )
