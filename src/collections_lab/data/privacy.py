"""Pseudonyms for customer ids: a keyed hash whose key never leaves the installation.

A report for stakeholders can replace customer ids (and names) by pseudonyms that stay
the same week to week, so two reports can be compared, but that nobody can turn back
into ids. An unkeyed or publicly keyed hash fails the second test: anyone can hash
``C00001`` ... ``C99999`` and look the pseudonyms up in under a second. So the pseudonym
is HMAC-SHA256 of the id under a secret key:

1. ``salt=`` given to the call (e.g. a key from the team's password manager); else
2. the environment variable ``COLLECTIONS_LAB_SECRET`` (a scheduler's secret store); else
3. the installation's secret file, created on first use with 32 random bytes and mode
   0600: ``<user config dir>/collections_lab/secret`` (``~/.config/collections_lab/secret``
   on Linux, from platformdirs), or the path in ``COLLECTIONS_LAB_SECRET_FILE`` (tests and
   CI point it at a temporary file). It lives outside the repository and is never
   committed or published.

There is no built-in default: if no key can be found or created, pseudonymising fails
with a message saying how to give one. Everyone who must produce comparable pseudonyms
(two machines running the weekly batch) shares the same key through 1 or 2.

Example
-------
>>> pseudonym("C0001", salt="k") == pseudonym("C0001", salt="k") != pseudonym("C0001", salt="j")
True
>>> pseudonym("C0001", salt="k")
'C-21b31c4a9dfe'
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import replace
from pathlib import Path

import pandas as pd

__all__ = ["SECRET_ENV", "SECRET_FILE_ENV", "pseudonym", "pseudonymise",
           "pseudonymise_portfolio", "secret_path"]

#: Environment variable holding the pseudonym key itself.
SECRET_ENV = "COLLECTIONS_LAB_SECRET"
#: Environment variable naming the file that holds the installation's key.
SECRET_FILE_ENV = "COLLECTIONS_LAB_SECRET_FILE"
#: Hex digits of the keyed hash kept in a pseudonym (48 bits).
DIGITS = 12


def secret_path() -> Path:
    """Where the installation's key is kept (``COLLECTIONS_LAB_SECRET_FILE`` or the
    user's config directory); the file may not exist yet."""
    given = os.environ.get(SECRET_FILE_ENV, "").strip()
    if given:
        return Path(given).expanduser()
    from platformdirs import user_config_path

    return user_config_path("collections_lab", appauthor=False) / "secret"


def _installation_secret() -> bytes:
    path = secret_path()
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:  # O_EXCL: two first runs at once keep one key, the one written first
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(secrets.token_hex(32) + "\n")
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise RuntimeError(
            f"no key for pseudonyms: cannot create or read {path} "
            f"({getattr(exc, 'strerror', None) or type(exc).__name__}); set "
            f"{SECRET_ENV} to a secret, or {SECRET_FILE_ENV} to a writable file path"
        ) from None
    if not key:
        raise RuntimeError(f"no key for pseudonyms: {path} is empty; delete it to have a new "
                           f"key created, or set {SECRET_ENV}")
    return key.encode("ascii")


def _key(salt: str | None) -> bytes:
    if salt is not None and str(salt) != "":
        return str(salt).encode("utf-8")
    given = os.environ.get(SECRET_ENV, "")
    if given:
        return given.encode("utf-8")
    return _installation_secret()


def pseudonym(value, salt: str | None = None, prefix: str = "C-") -> str:
    """The stable pseudonym of one id: ``prefix`` + 12 hex digits of HMAC-SHA256.

    ``salt`` is the secret key (default: ``COLLECTIONS_LAB_SECRET``, else the
    installation's key file; see the module notes). The same id and key always give the
    same pseudonym; without the key the id cannot be recovered by hashing candidate ids.
    """
    digest = hmac.new(_key(salt), str(value).encode("utf-8"), hashlib.sha256)
    return prefix + digest.hexdigest()[:DIGITS]


def pseudonymise(frame: pd.DataFrame, column: str = "customer_id", salt: str | None = None,
                 prefix: str = "C-") -> pd.DataFrame:
    """A copy of ``frame`` with ``column`` replaced by stable pseudonyms.

    Missing values stay missing. Raises KeyError naming the column if it is absent, and
    ValueError if two different ids would share a pseudonym (never silently merged).

    Example:
        >>> out = pseudonymise(pd.DataFrame({"customer_id": ["a", "b", "a"]}), salt="s")
        >>> out["customer_id"].nunique()
        2
    """
    if column not in frame.columns:
        raise KeyError(f"cannot pseudonymise: no column {column!r} in {list(frame.columns)}")
    key = _key(salt).decode("utf-8")  # read the key file once, not once per id
    out = frame.copy()
    values = out[column]
    uniques = pd.unique(values[values.notna()])
    mapping = {v: pseudonym(v, key, prefix) for v in uniques}
    if len(set(mapping.values())) != len(mapping):
        raise ValueError(f"pseudonym collision in column {column!r}; use another prefix or key")
    out[column] = values.map(mapping).where(values.notna(), values)
    return out


def pseudonymise_portfolio(portfolio, salt: str | None = None):
    """A copy of a Portfolio whose customers are pseudonymised in every table.

    ``customer_id`` is replaced in customers, invoices and assignments, and the
    customers' ``name`` (if present) by the same pseudonym.
    """
    key = _key(salt).decode("utf-8")
    customers = pseudonymise(portfolio.customers, "customer_id", key)
    if "name" in customers.columns:
        customers["name"] = customers["customer_id"]
    changes = {"customers": customers}
    for table in ("invoices", "assignments"):
        frame = getattr(portfolio, table)
        if "customer_id" in frame.columns:
            changes[table] = pseudonymise(frame, "customer_id", key)
    return replace(portfolio, **changes)
