"""Writing files that hold account data: atomically, readable and writable by the owner only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["PRIVATE_MODE", "write_private"]

#: Owner read and write, nobody else.
PRIVATE_MODE = 0o600


def write_private(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` atomically, with mode 0600 whatever the umask.

    Parameters
    ----------
    path : pathlib.Path
        The file; its directory is created when missing. An existing file is replaced.
    data : str or bytes
        Text is written as UTF-8.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(temporary, PRIVATE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
