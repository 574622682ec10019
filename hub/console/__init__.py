"""The operator console (``renkei console``): flows, dead letters, traces, the access record, health.

FastAPI with pages rendered on the server (Jinja2, inline SVG charts, no JavaScript) and the same actions
as a JSON API described by OpenAPI. See ``docs/console.md``.
"""

from hub.console.app import create_app
from hub.console.roles import FEDERATION, Permission, Role
from hub.console.users import ConsoleUser, UserDirectory, load_users

__all__ = ["FEDERATION", "ConsoleUser", "Permission", "Role", "UserDirectory", "create_app", "load_users"]
