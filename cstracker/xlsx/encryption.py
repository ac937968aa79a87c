"""Encryption at rest: the tracker as a password-protected OOXML file (Agile, AES-256).

This is real file encryption, the scheme Excel itself uses for "Encrypt with
Password" (ECMA-376 Agile: AES-256-CBC, SHA-512, 100,000 key-derivation rounds,
via msoffcrypto-tool), not sheet protection (a UI lock). Excel and LibreOffice
open the file with the password.

No plaintext package ever touches the disk, the system temp folder included:

- reading decrypts into memory and every reader is given the bytes
  (``source``: the path for a plain tracker, the decrypted bytes for an
  encrypted one, decrypted once per command and cached);
- writing builds the new package in memory, checks it there, encrypts the bytes
  and hands only those to the one atomic write (``encrypt_bytes`` as a step on
  the bytes before it); backups are the previous (encrypted) file itself.

The password comes from ``--password-file``, the ``CSTRACKER_PASSWORD``
environment variable or a hidden prompt, never a plain command-line argument
(another user could read it in the process list). The CLI registers where to
find it (``use_password_file``, ``set_prompt``); the library asks ``password_for``.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

from cstracker.core.errors import TrackerError, UsageError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
PASSWORD_ENV = "CSTRACKER_PASSWORD"


class PasswordError(TrackerError):
    """The password does not open the encrypted tracker (exit 1; nothing was changed)."""


# -- where the password comes from ---------------------------------------------------------------

_password_file: Path | None = None
_prompt: Callable[[Path, bool], str] | None = None
#: passwords already given in this process, by resolved path (asked once per command)
_known: dict[Path, str] = {}


def use_password_file(path: str | Path | None) -> None:
    global _password_file
    _password_file = Path(path) if path else None


def set_prompt(prompt: Callable[[Path, bool], str] | None) -> None:
    """``prompt(tracker, new)`` asks for a password without echoing it (``new``: ask twice)."""
    global _prompt
    _prompt = prompt


def forget_passwords() -> None:
    """Start afresh (each command): no password asked before, no decrypted package held."""
    _known.clear()
    _plain.clear()


def remember(path: str | Path, password: str) -> None:
    _known[_key(path)] = password


def _key(path: str | Path) -> Path:
    return Path(os.path.abspath(path))


def read_password_file(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"--password-file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(
            f"--password-file {path}: cannot be read ({getattr(e, 'strerror', None) or e})"
        ) from None
    # the line ending an editor adds is not part of the password; anything else is
    password = text.rstrip("\r\n")
    if not password:
        raise UsageError(f"--password-file {path}: the file is empty")
    return password


def password_for(path: str | Path, new: bool = False) -> str:
    """The password for the tracker at ``path``: given before, a file, the environment, or asked."""
    key = _key(path)
    if _password_file is not None:
        return read_password_file(_password_file)
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if key in _known:
        return _known[key]
    if _prompt is not None:
        password = _prompt(Path(path), new)
    else:
        raise UsageError(
            f"{path}: the tracker is encrypted; give its password with --password-file FILE or the "
            f"{PASSWORD_ENV} environment variable, or run the command in a terminal to be asked for it"
            if not new
            else f"{path}: a password is needed to encrypt it; give it with --password-file FILE or the "
            f"{PASSWORD_ENV} environment variable, or run the command in a terminal to be asked for it"
        )
    if not password:
        raise UsageError(f"{path}: the password is empty")
    _known[key] = password
    return password


# -- the bytes ----------------------------------------------------------------------------------


def looks_encrypted(head: bytes) -> bool:
    return head.startswith(OLE_MAGIC)


def is_encrypted_file(path: str | Path) -> bool:
    """True when ``path`` is an encrypted Office file (an OLE container with an encrypted package)."""
    try:
        with open(path, "rb") as fh:
            if not looks_encrypted(fh.read(8)):
                return False
            fh.seek(0)
            return _encrypted_ole(fh)
    except OSError:
        return False


def _encrypted_ole(fh) -> bool:
    import olefile

    try:
        ole = olefile.OleFileIO(fh)
    except Exception:  # olefile raises several kinds of error on a damaged or partial container
        return False
    try:
        return ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")
    finally:
        ole.close()


def decrypt_bytes(data: bytes, password: str, where: str | Path) -> bytes:
    """The plain package inside ``data``; PasswordError when the password is wrong."""
    import msoffcrypto
    from msoffcrypto import exceptions

    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        office.load_key(password=password, verify_password=True)
        out = io.BytesIO()
        office.decrypt(out)
    except exceptions.InvalidKeyError:
        raise PasswordError(f"{where}: wrong password; nothing was changed") from None
    except (exceptions.DecryptionError, exceptions.FileFormatError, OSError, ValueError) as e:
        raise TrackerError(f"{where}: the encrypted file cannot be opened ({e})") from None
    plain = out.getvalue()
    if not plain.startswith(ZIP_MAGIC):
        raise TrackerError(f"{where}: the encrypted file does not hold a workbook")
    return plain


def encrypt_bytes(plain: bytes, password: str) -> bytes:
    """``plain`` (an .xlsx package) encrypted with ECMA-376 Agile (AES-256, SHA-512), all in memory."""
    from msoffcrypto.method.ecma376_agile import ECMA376Agile

    return ECMA376Agile.encrypt(password, io.BytesIO(plain))


# -- what readers are given ------------------------------------------------------------------------

#: resolved path -> (file identity, password, decrypted bytes): one decrypt per command, however many readers
_plain: dict[Path, tuple[tuple[int, int, int], str, bytes]] = {}


def _identity(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def source(path: str | Path) -> Path | bytes:
    """What a reader opens: the path of a plain tracker, the decrypted bytes of an encrypted one."""
    path = Path(path)
    if not is_encrypted_file(path):
        return path
    key = _key(path)
    ident = _identity(path)
    password = password_for(path)
    cached = _plain.get(key)
    if cached and cached[0] == ident and cached[1] == password:
        return cached[2]
    plain = decrypt_bytes(path.read_bytes(), password, path)
    _plain[key] = (ident, password, plain)
    return plain


def keep_plain(path: str | Path, plain: bytes) -> None:
    """After an encrypted save: the new file's plain bytes, so the next reader needs no decrypt."""
    path = Path(path)
    _plain[_key(path)] = (_identity(path), password_for(path), plain)


def drop_plain(path: str | Path) -> None:
    _plain.pop(_key(path), None)


def as_file(src: Path | bytes):
    """Something ``zipfile`` and the spreadsheet readers open: the path, or the bytes as a file."""
    return io.BytesIO(src) if isinstance(src, bytes) else src


def open_zip(src: Path | bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(as_file(src))


def for_fastexcel(src: Path | bytes) -> str | bytes:
    return src if isinstance(src, bytes) else str(src)


def calamine_book(src: Path | bytes):
    from python_calamine import CalamineWorkbook

    if isinstance(src, bytes):
        return CalamineWorkbook.from_filelike(io.BytesIO(src))
    return CalamineWorkbook.from_path(str(src))


def check_zip_bytes(plain: bytes, xml_parts=()) -> None:
    """The in-memory package's every member CRC and the named XML parts well formed: ``safety.check_package``
    of the bytes (the one check of a written package)."""
    from cstracker.xlsx.safety import check_package

    check_package(plain, xml_parts)
