"""A base for the read-only byte streams the reader stacks (gzip, zip members, UTF-16)."""

from __future__ import annotations

import io


class ReadOnlyStream(io.RawIOBase):
    """Subclasses implement ``read(n)``; ``readinto`` (what buffered readers call) follows from it."""

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)
