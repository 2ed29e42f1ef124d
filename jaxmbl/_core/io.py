"""Atomic file writes: a crash never leaves a half-written result behind."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from jaxmbl._core.errors import JaxmblError


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, fsync, then rename."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_to_builtin) + "\n")


def _to_builtin(x):
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if hasattr(x, "__array__"):
        return np.asarray(x).tolist()
    raise TypeError(f"cannot serialise {type(x).__name__}")


def check_out_dir(out_dir) -> Path:
    """Create ``out_dir`` and prove it is writable before any computation starts."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        raise JaxmblError(f"out: cannot write to {str(out)!r} ({err.strerror or err})") from err
    return out
