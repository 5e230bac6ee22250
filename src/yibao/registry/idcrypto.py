"""ID numbers at rest: AES-GCM encryption and keyed blind indexes (issue 9).

A person's ID number is stored as three columns, all made by :func:`id_number_fields`:

- ``id_cipher``: ``version byte + 12-byte random nonce + AES-256-GCM ciphertext and tag`` of
  the normalised number. The associated data is ``id_digest``, so a ciphertext moved to
  another row (or a digest changed under it) fails its tag like a changed byte does.
- ``id_digest``: HMAC-SHA256 of the whole normalised number, truncated to 16 bytes (hex):
  the unique constraint and the lookup by full number.
- ``id_last6_digest``: the same of its last six characters: the desk's search by the end
  of a number.

Without the key neither digest can be computed, so the columns say nothing about the
number; with it, 10^6 possible endings are easy to try, which is why the key lives outside
the database and its backups.

The key is one random 32-byte master key, base64, from ``YIBAO_FIELD_KEY`` or from the
file ``YIBAO_FIELD_KEY_FILE`` (default: ``field-key`` in the data directory, which
``yibao demo`` and the tests create when there is none). Two keys are derived from it with
HKDF-SHA256, one for encryption and one for the blind indexes, so that a digest never
serves as a cipher key. ``yibao keys rotate`` moves every value to a new key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ENV_KEY = "YIBAO_FIELD_KEY"
ENV_KEY_FILE = "YIBAO_FIELD_KEY_FILE"
DEFAULT_KEY_FILE_NAME = "field-key"
KEY_BYTES = 32
NONCE_BYTES = 12
DIGEST_BYTES = 16
VERSION = b"\x01"
LAST_DIGITS = 6


class FieldKeyMissing(ImproperlyConfigured):
    """No usable key: nothing can be encrypted, decrypted or looked up."""


class IdNumberUnreadable(Exception):
    """A stored ciphertext failed its GCM tag: changed in the database, or another key."""


@dataclass(frozen=True, slots=True)
class FieldKey:
    """The two working keys derived from one master key."""

    aead: AESGCM
    index_key: bytes
    index_mac: hmac.HMAC  # keyed once; each digest starts from a copy
    source: str  # where the master key came from, for messages

    @classmethod
    def from_master(cls, master: bytes, *, source: str) -> FieldKey:
        if len(master) != KEY_BYTES:
            raise FieldKeyMissing(
                f"字段加密密钥（{source}）应为{KEY_BYTES}字节的 base64，实际{len(master)}字节"
            )
        index_key = _derive(master, b"yibao/id-number/blind-index")
        return cls(
            aead=AESGCM(_derive(master, b"yibao/id-number/aes-256-gcm")),
            index_key=index_key,
            index_mac=hmac.new(index_key, digestmod=hashlib.sha256),
            source=source,
        )


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


def _decode(text: str, source: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise FieldKeyMissing(f"字段加密密钥（{source}）不是有效的 base64") from None


def key_file_path() -> Path:
    """Where the key file is (``YIBAO_FIELD_KEY_FILE``, else ``field-key`` in the data dir)."""
    named = os.environ.get(ENV_KEY_FILE)
    return Path(named) if named else Path(settings.DATA_DIR) / DEFAULT_KEY_FILE_NAME


def key_from_file(path: Path) -> FieldKey:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FieldKeyMissing(
            f"没有字段加密密钥：未设置 {ENV_KEY}，密钥文件 {path} 不存在"
            f"（yibao keys new {path} 可新建；恢复备份时请使用原来的密钥文件）"
        ) from None
    except OSError as error:
        raise FieldKeyMissing(f"无法读取字段加密密钥文件 {path}：{error.strerror}") from None
    return FieldKey.from_master(_decode(text, str(path)), source=str(path))


_cache: dict[tuple[str, str], FieldKey] = {}


def current_key() -> FieldKey:
    """The key in force: ``YIBAO_FIELD_KEY``, else the key file; :class:`FieldKeyMissing`."""
    # Called once per number written: the cache is keyed by the raw settings, looked up
    # before any path is built.
    text = os.environ.get(ENV_KEY, "")
    named = os.environ.get(ENV_KEY_FILE, "")
    cached = _cache.get((text, named))
    if cached is not None:
        return cached
    if text:
        key = FieldKey.from_master(_decode(text, ENV_KEY), source=f"环境变量 {ENV_KEY}")
    else:
        key = key_from_file(key_file_path())
    _cache.clear()
    _cache[(text, named)] = key
    return key


def forget_keys() -> None:
    """Drop the cached key (after a rotation replaced the key file)."""
    _cache.clear()


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def key_file_create(path: Path) -> Path:
    """Write a new random key to ``path`` (owner read/write only); refuse to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(new_key_text() + "\n")
    return path


def key_file_ensure() -> Path | None:
    """For ``yibao demo`` and the tests: create the default key file when no key is set.

    Returns the file created, or None when a key was already there."""
    if os.environ.get(ENV_KEY):
        return None
    path = key_file_path()
    if path.exists():
        return None
    return key_file_create(path)


# --- the stored fields ------------------------------------------------------------------------


def normalise(number: str) -> str:
    """No whitespace, upper-case X: the form that is encrypted and indexed."""
    if not number:
        return ""
    if number.isdigit() and number.isascii():  # the usual case: nothing to change
        return number
    if number.isalnum():  # no whitespace: without the regular expression
        return number.upper()
    return re.sub(r"\s+", "", number).upper()


def _digest(key: FieldKey, label: bytes, text: str) -> str:
    mac = key.index_mac.copy()
    mac.update(label + text.encode("utf-8"))
    return mac.digest()[:DIGEST_BYTES].hex()


def id_digest(number: str, *, key: FieldKey | None = None) -> str:
    """The blind index of a whole ID number (normalised first)."""
    return _digest(key or current_key(), b"full:", normalise(number))


def last6_digest(ending: str, *, key: FieldKey | None = None) -> str:
    """The blind index of the last six characters of an ID number (``ending`` is them)."""
    return _digest(key or current_key(), b"last6:", normalise(ending)[-LAST_DIGITS:])


def id_number_fields(number: str, *, key: FieldKey | None = None) -> dict[str, Any]:
    """The stored columns of one ID number: ``id_cipher``, ``id_digest``, ``id_last6_digest``.

    The one place a number is encrypted: the registry services, the importers and any bulk
    writer call it once per person."""
    key = key or current_key()
    number = normalise(number)
    digest = _digest(key, b"full:", number)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = key.aead.encrypt(nonce, number.encode("utf-8"), digest.encode("ascii"))
    return {
        "id_cipher": VERSION + nonce + sealed,
        "id_digest": digest,
        "id_last6_digest": _digest(key, b"last6:", number[-LAST_DIGITS:]),
    }


def id_number_decrypt(
    cipher: bytes | memoryview, digest: str, *, key: FieldKey | None = None
) -> str:
    """The number sealed in ``cipher`` (bound to ``digest``); :class:`IdNumberUnreadable`
    when the tag does not verify."""
    key = key or current_key()
    blob = bytes(cipher)
    if blob[:1] != VERSION or len(blob) < 1 + NONCE_BYTES + 16:
        raise IdNumberUnreadable("证件号码密文格式不符：数据库中的值被改动过")
    nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        plain = key.aead.decrypt(nonce, sealed, digest.encode("ascii"))
    except InvalidTag:
        raise IdNumberUnreadable(
            f"证件号码密文校验失败：数据库中的值被改动过，或所用密钥（{key.source}）不是加密时的密钥"
        ) from None
    return plain.decode("utf-8")


def backup_key_note() -> str:
    """What ``yibao backup`` says about the key, which a backup does not contain."""
    try:
        source = current_key().source
    except FieldKeyMissing as error:
        return f"警告：{error}；这份备份中的证件号码将无法读取。"
    return (
        f"注意：备份中的证件号码是加密的，只能用字段加密密钥（{source}）读取，而密钥不在备份里。"
        "请另行备份密钥，与数据库备份分开保管；丢了密钥，备份中的证件号码就无法恢复。"
    )


# --- for the migrations that encrypt numbers once stored in plain ---------------------------

MIGRATION_CHUNK = 2000


def key_for_migration() -> FieldKey:
    """The key in force, or :class:`FieldKeyMissing` saying how to provide one."""
    try:
        return current_key()
    except FieldKeyMissing as error:
        raise FieldKeyMissing(
            f"数据库中已有证件号码，加密它们需要字段加密密钥：{error}。"
            "请先设置 YIBAO_FIELD_KEY_FILE（或 YIBAO_FIELD_KEY），或运行 yibao keys new 生成"
            "默认位置的密钥文件，妥善备份后再运行 yibao migrate。"
        ) from None


def encrypt_plain_column(model: Any, *, using: str) -> None:
    """Fill ``id_cipher``, ``id_digest`` and ``id_last6_digest`` of every row of the
    (historical) ``model`` from its plain ``id_number``; needs the key only if there are rows."""
    rows = model.objects.using(using).order_by("pk")
    if not rows.exists():
        return
    key = key_for_migration()
    last = 0
    while chunk := list(rows.filter(pk__gt=last).only("pk", "id_number")[:MIGRATION_CHUNK]):
        for row in chunk:
            for name, value in id_number_fields(row.id_number, key=key).items():
                setattr(row, name, value)
        model.objects.using(using).bulk_update(chunk, ["id_cipher", "id_digest", "id_last6_digest"])
        last = chunk[-1].pk


def decrypt_to_plain_column(model: Any, *, using: str) -> None:
    """The way back: the plain ``id_number`` of every row from its ciphertext."""
    rows = model.objects.using(using).order_by("pk")
    if not rows.exists():
        return
    key = key_for_migration()
    last = 0
    while chunk := list(
        rows.filter(pk__gt=last).only("pk", "id_cipher", "id_digest")[:MIGRATION_CHUNK]
    ):
        for row in chunk:
            row.id_number = id_number_decrypt(row.id_cipher, row.id_digest, key=key)
        model.objects.using(using).bulk_update(chunk, ["id_number"])
        last = chunk[-1].pk
