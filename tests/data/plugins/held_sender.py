"""A test plugin whose parse can be held: the cluster fault tests kill the
worker that is auditing a partition while it is certainly busy with it.

A ``held_sender`` file is JSON lines: ``{"held": {"started": PATH, "release":
PATH}}`` makes parse append its process id to ``started`` and wait (up to two
minutes) until ``release`` exists; ``{"at": ISO, "pixel": ID, "http": N}``
lines are Graph API answers of that pixel.
"""

import json
import os
import time
from pathlib import Path

import polars as pl

from auditor import Source, hookimpl

PLUGIN_NAME = "held_sender"

DTYPE = pl.Struct({"at": pl.String, "pixel": pl.String, "http": pl.Int64})


def sniff(name, head):
    return 0.95 if head.lstrip().startswith(b'{"held"') else 0.0


def _hold(text: str) -> None:
    spec = json.loads(text)["held"]
    with open(spec["started"], "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + 120
    while not Path(spec["release"]).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def parse(batch, ctx):
    held = pl.col("text").str.starts_with('{"held"')
    for text in batch.filter(held)["text"]:
        _hold(text)
    rec = batch.filter(~held & pl.col("text").str.starts_with('{"at"'))
    rec = rec.with_columns(pl.col("text").str.json_decode(DTYPE).alias("r")).unnest("r")
    return rec.select(
        "file", "line",
        pl.lit("api_response").alias("kind"),
        pl.col("at").str.to_datetime(format="%+", time_zone="UTC").alias("logged_at"),
        pl.col("pixel").alias("pixel_id"),
        pl.col("pixel").alias("account"),
        pl.col("http").alias("http_status"),
        pl.lit(1).alias("events_received"),
        pl.when(pl.col("http") == 200).then(pl.lit("success")).otherwise(pl.lit("server_error_page")).alias("signal"),
        pl.format("answer http {}", pl.col("http")).alias("message"),
    )


@hookimpl
def capi_auditor_register_sources(register):
    register(Source(name="held_sender", sniff=sniff, parse=parse, description="test: a sender log whose parse can be held"))
