"""An uploaded file as a temporary path the readers can open (keeping its suffix)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from yibao.core.errors import ApplicationError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


@contextlib.contextmanager
def uploaded_path(upload: Any) -> Iterator[Path]:
    """Write ``upload`` (a Django UploadedFile) to a temporary directory under its own name."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise ApplicationError(
            "file_too_large", f"文件过大（超过{MAX_UPLOAD_BYTES // 1024 // 1024}MB）"
        )
    name = Path(upload.name or "upload").name
    with tempfile.TemporaryDirectory(prefix="yibao-upload-") as folder:
        path = Path(folder) / name
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        yield path
