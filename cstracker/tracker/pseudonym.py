"""Keyed pseudonyms for extracts: HMAC-SHA256 with a key kept outside the tracker.

A plain hash of a 7-digit Mosaic ID is reversed by trying all ten million
numbers (under a second); a keyed hash cannot be, without the key. The same
key gives the same pseudonym for the same young person in every extract, so an
analyst can join extracts made months apart; another key gives unrelated ones.

The key lives in the user's application-data folder (made on first use, readable
by the user only), or in a file the user names (``--key``), e.g. one a team shares.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from cstracker.core.errors import UsageError

KEY_FILE_NAME = "pseudonym.key"
MIN_KEY_BYTES = 16
#: hex characters of the HMAC kept: 64 bits, so two people share one only by a ~1-in-10^19 chance per pair
DIGEST_CHARS = 16


def app_data_dir() -> Path:
    """The user's application-data folder for cstracker (per platform; honours XDG_DATA_HOME)."""
    if sys.platform.startswith("win"):
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / "cstracker"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "cstracker"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cstracker"


def default_key_path() -> Path:
    return app_data_dir() / KEY_FILE_NAME


@dataclass(frozen=True)
class PseudonymKey:
    key: bytes
    path: Path
    created: bool = False

    def pseudonym(self, kind: str, value: str | None) -> str | None:
        """``kind`` ("YP" young person, "RF" referral) + the keyed digest of the normalised value."""
        if value is None:
            return None
        text = str(value).strip().upper()
        if not text:
            return None
        digest = hmac.new(self.key, f"{kind}:{text}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}-{digest[:DIGEST_CHARS]}"


def load_key(path: str | Path | None = None) -> PseudonymKey:
    """The key at ``path`` (default: the application-data folder), made there when there is none."""
    path = Path(path) if path is not None else default_key_path()
    if path.exists():
        try:
            key = path.read_bytes().strip()
        except OSError as e:
            raise UsageError(f"{path}: the pseudonym key cannot be read ({e.strerror or e})") from None
        if len(key) < MIN_KEY_BYTES:
            raise UsageError(
                f"{path}: a pseudonym key must hold at least {MIN_KEY_BYTES} bytes of random data; "
                "this one is too short"
            )
        return PseudonymKey(key, path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        # O_EXCL: two extracts started at once must not each make (and use) a different key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(path)
    except OSError as e:
        raise UsageError(f"{path}: cannot make a pseudonym key there ({e.strerror or e})") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    return PseudonymKey(key, path, created=True)
