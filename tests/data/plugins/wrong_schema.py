"""A third-party plugin that returns a frame with a wrongly typed column."""

import polars as pl

from auditor import Source, hookimpl

PLUGIN_NAME = "wrong_schema"


def sniff(name, head):
    return 1.0 if name.endswith(".wrong") else 0.0


def parse(batch, ctx):
    return batch.select("file", "line", pl.lit("server_event").alias("kind"), pl.lit([1, 2]).alias("logged_at"))


@hookimpl
def capi_auditor_register_sources(register):
    register(Source(name="wrong", sniff=sniff, parse=parse))
