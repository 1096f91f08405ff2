"""The ``extra`` JSON of a row: only the fields that say something.

Every row used to carry ``{"level":"NOTICE",...}``: ~50 bytes a row for a value
that is the same on nearly every line.  Now a field is written only when it is
not null, the header level only when it is not the routine ``NOTICE``/``INFO``
(an ``ERROR``/``WARNING``/``DEBUG`` line keeps it), and a row with nothing to
say has ``extra`` = null.
"""

from __future__ import annotations

import polars as pl

#: Levels every ordinary plugin line is written at: no information in them.
ROUTINE_LEVELS = ("NOTICE", "INFO")


def unusual_level(level: pl.Expr) -> pl.Expr:
    """The header level when it is not NOTICE/INFO (legacy headers have none: null)."""
    return pl.when(~level.is_in(ROUTINE_LEVELS)).then(level)


def extra_json(**fields: pl.Expr) -> pl.Expr:
    """``{"k":v,...}`` of the non-null ``fields`` in the given order; null when all are null."""
    members = [
        # '{"k":v}' -> '"k":v' (json_encode escapes the value)
        pl.when(e.is_not_null()).then(pl.struct(e.alias(k)).struct.json_encode().str.slice(1).str.strip_suffix("}"))
        for k, e in fields.items()
    ]
    body = pl.concat_str(members, separator=",", ignore_nulls=True)
    return pl.when(body != "").then(pl.concat_str([pl.lit("{"), body, pl.lit("}")])).alias("extra")
