"""``capi-audit watch``: follow connector logs live and alert as problems appear.

Module map (one concern each):

* :mod:`.tailer` -- file discovery, identity (device, inode, fingerprint),
  offsets, rename rotation, copytruncate, deleted files;
* :mod:`.framing` -- when bytes form complete lines / entries (partial lines,
  quiet period, long lines);
* :mod:`.observer` -- watchdog observer (native or polling) feeding hints;
* :mod:`.window` -- parsing chunks with the sources and the sliding window the
  checks run over;
* :mod:`.alerts` -- the alert state machine (firing, reminder, resolved);
* :mod:`.models` / :mod:`.persist` -- checkpoints and alerts in the store,
  committed in one transaction per cycle;
* :mod:`.delivery` -- stdout (text / jsonl) and the webhook thread;
* :mod:`.runner` -- the loop tying them together;
* :mod:`.cli` -- the Typer command, added by :func:`.cli.register`.
"""
