"""Attribute rows that name no pixel to the one pixel their folder names.

Many senders log responses without the pixel id (a bare ``events_received``
body says nothing about where it went).  When every other row of the same
source in the same folder (or archive) names one single pixel, the rows
without one almost certainly belong to it.  Sources call
:func:`fill_pixel_by_folder` from ``finalize``; it notes what it did, and
``--set pixel_id=ID`` overrides it for rows that name no pixel.
"""

from __future__ import annotations

import polars as pl

from .frames import only_value
from .registry import ParseContext
from .schema import by_value


def folder_of(path: pl.Expr) -> pl.Expr:
    """"dir/sub/file.log" -> "dir/sub"; "dir/a.zip!member.log" -> "dir/a.zip"."""
    return path.str.replace(r"![^!]*$", "").str.replace(r"/[^/]*$", "")


def folders(frame: pl.DataFrame) -> pl.Expr:
    """The folder (or archive) of each row's ``file``, worked out once per file."""
    return by_value(frame, "file", folder_of)


def fill_pixel_by_folder(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Fill ``pixel_id``/``account`` of rows without a pixel (see module doc)."""
    missing = frame["pixel_id"].is_null()
    if not missing.any():
        return frame
    forced = ctx.options.get("pixel_id")
    if forced:
        ctx.note(f"{ctx.source}: {int(missing.sum())} rows named no pixel; attributed to {forced} as given with --set pixel_id")
        return frame.with_columns(pl.col("pixel_id").fill_null(pl.lit(str(forced))), pl.col("account").fill_null(pl.lit(str(forced))))
    with_folder = frame.with_columns(folders(frame).alias("_folder"))
    single = only_value(with_folder, "_folder", "pixel_id", alias="_pixel")
    out = with_folder.join(single, on="_folder", how="left", maintain_order="left")
    filled = out.filter(pl.col("pixel_id").is_null() & pl.col("_pixel").is_not_null())
    for folder, pixel, n in filled.group_by("_folder", "_pixel").len().sort("_folder").iter_rows():
        ctx.note(f"{ctx.source}: {n} rows in {folder} named no pixel; attributed to {pixel}, the only pixel named in that folder (override with --set pixel_id=ID)")
    left = out.filter(pl.col("pixel_id").is_null() & pl.col("_pixel").is_null()).height
    if left:
        ctx.note(f"{ctx.source}: {left} rows name no pixel and could not be attributed; they are reported under no account (use --set pixel_id=ID)")
    return out.with_columns(
        pl.col("pixel_id").fill_null(pl.col("_pixel")),
        pl.col("account").fill_null(pl.col("_pixel")),
    ).drop("_folder", "_pixel")
