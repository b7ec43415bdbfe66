"""What the commands share: the connection options, the client they build, and the readers of
list and time arguments."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from typing import Any

from .._constants import DEFAULT_LIST_FORMAT, ENV_API_KEY, ENV_ORG_ID
from .._vocabulary import LIST_FORMATS
from ..client import MetricsClient
from ..directory import looks_like_id
from ..errors import InvalidParameterError, PermissionDeniedError

__all__ = ["add_connection", "add_filters", "connect", "read_time", "split"]


def add_filters(parser: argparse.ArgumentParser) -> None:
    """``--org``, ``--user``, ``--service-user`` and ``--playbook``."""
    parser.add_argument("--org", action="append", help="keep these organizations (ids/names)")
    parser.add_argument("--user", action="append", help="keep these users (ids/emails)")
    parser.add_argument(
        "--service-user", action="append", help="keep these service users (ids/names)"
    )
    parser.add_argument("--playbook", help="keep this playbook (id or title)")


def add_connection(parser: argparse.ArgumentParser, *, scope: bool = False) -> None:
    """The options that say which API (or the demo), which cache, and (``scope``) which
    organization and list format."""
    parser.add_argument(
        "--demo", action="store_true", help="use the synthetic demo enterprise (no key)"
    )
    parser.add_argument("--base-url", help="API base URL (DEVIN_API_BASE_URL)")
    if scope:
        parser.add_argument(
            "--org-scope",
            metavar="ORG",
            help=f"scope to one organization (id or name) for an organization's key "
            f"({ENV_ORG_ID}); every call goes to /v3/organizations/ORG/...",
        )
        parser.add_argument(
            "--list-format",
            choices=list(LIST_FORMATS),
            default=DEFAULT_LIST_FORMAT,
            help=f"how lists go on the wire: repeated keys or comma-joined "
            f"({DEFAULT_LIST_FORMAT}; metrics-toolkit doctor says which the server reads)",
        )
    parser.add_argument("--no-cache", action="store_true", help="do not use the answer cache")
    parser.add_argument("--cache-dir", help="where the answer cache lives")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def split(values: list[str] | None) -> list[str] | None:
    """Repeated and comma-joined values as one list; None when absent."""
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def read_time(value: str, name: str) -> str | int:
    """A point in time from the command line: digits are Unix epoch seconds, else ISO 8601.

    Eight digits that make a date (``20260901``) are refused: as seconds they fall in 1970.
    """
    if not value.isdigit():
        return value
    if len(value) == 8:
        try:
            day = dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            pass
        else:
            raise InvalidParameterError(
                name, f"{value!r} reads as Unix seconds in 1970; for the date, write {day}"
            )
    return int(value)


def org_scope(args: argparse.Namespace) -> str | None:
    """The organization ``--org-scope`` (else the ``DEVIN_ORG_ID`` environment variable)
    names, as given; None for enterprise scope."""
    value = getattr(args, "org_scope", None) or os.environ.get(ENV_ORG_ID) or None
    return value.strip() if value else None


def connect(args: argparse.Namespace, **settings: Any) -> MetricsClient:
    """The client the options describe: the demo with ``--demo``, else the API, refused before
    any request without a key; scoped to ``--org-scope`` (an id, or a name the directory
    resolves) when given.

    Raises
    ------
    InvalidParameterError
        Without a key and without ``--demo``; for an organization name that the directory does
        not list or cannot be read with this key.
    """
    settings.setdefault("cache", not args.no_cache)
    if args.cache_dir:
        settings["cache_dir"] = args.cache_dir
    if hasattr(args, "list_format"):
        settings["list_format"] = args.list_format
    org = org_scope(args)
    if org is not None and not looks_like_id(org):
        org = organization_id(args, org, settings)
    return _client(args, settings if org is None else {**settings, "org_id": org})


def _client(args: argparse.Namespace, settings: dict[str, Any]) -> MetricsClient:
    if args.demo:
        return MetricsClient.demo(**settings)
    if not os.environ.get(ENV_API_KEY):
        raise InvalidParameterError(
            ENV_API_KEY,
            "is not set: set it to a service-user token (cog_...), or pass --demo for the "
            "synthetic demo enterprise",
        )
    return MetricsClient(base_url=args.base_url, **settings)


def organization_id(args: argparse.Namespace, name: str, settings: dict[str, Any]) -> str:
    """The id of the organization called ``name``, from the enterprise directory."""
    try:
        with _client(args, settings) as client:
            return client.directory().resolve_names("org", [name], parameter="--org-scope")[0]
    except PermissionDeniedError:
        raise InvalidParameterError(
            "--org-scope",
            f"{name!r} is a name, and this key cannot read the directory to find its id "
            "(403); give the organization's id",
        ) from None
