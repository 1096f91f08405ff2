"""File-system notifications as wake-up hints.

watchdog's native observer (inotify on Linux) or, with ``--poll`` (network
and container file systems, bind mounts), its ``PollingObserver``.  The
observer thread only puts paths on a queue; it never reads, parses or writes.
Event types are not trusted to mean anything (a truncation looks like a plain
"modified", polling reports "created" before "moved"): the main thread decides
by ``stat``.  When the native observer cannot start (inotify limits), the
polling one is used instead.
"""

from __future__ import annotations

import os
import queue
from typing import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from .tailer import WatchSpec

#: Put on the hint queue to wake the main loop without a path (stop, timers).
WAKE = ""


class HintHandler(FileSystemEventHandler):
    def __init__(self, hints: "queue.Queue[str]"):
        self.hints = hints

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        self.hints.put(os.fsdecode(event.src_path))
        if event.dest_path:
            self.hints.put(os.fsdecode(event.dest_path))


def start_observer(specs: list[WatchSpec], hints: "queue.Queue[str]", *, poll: bool, poll_interval: float = 1.0,
                   note: Callable[[str], None] | None = None) -> BaseObserver:
    """Schedule one watch per distinct directory and start the observer."""
    note = note or (lambda msg: None)
    roots: dict[str, bool] = {}
    for s in specs:
        roots[s.root] = roots.get(s.root, False) or s.recursive
    # a directory inside a recursively watched one needs no watch of its own
    wanted = {r: rec for r, rec in roots.items()
              if not any(o != r and orec and r.startswith(o.rstrip(os.sep) + os.sep) for o, orec in roots.items())}

    def build(polling: bool) -> BaseObserver:
        obs: BaseObserver = PollingObserver(timeout=poll_interval) if polling else Observer()
        handler = HintHandler(hints)
        for root, recursive in sorted(wanted.items()):
            obs.schedule(handler, root, recursive=recursive)
        obs.start()
        return obs

    if poll:
        return build(True)
    try:
        return build(False)
    except OSError as exc:
        note(f"native file notifications unavailable ({exc}); polling every {poll_interval:g}s instead")
        return build(True)


def stop_observer(obs: BaseObserver) -> None:
    obs.stop()
    obs.join(timeout=5.0)
