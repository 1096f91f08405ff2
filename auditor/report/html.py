"""Self-contained HTML report: one file, inline CSS, charts as inline SVG.

The file opens offline and prints: no script, no CDN, no web font, no image
file next to it.  Order of the page - the answer first, the evidence after:

1. *What to do*: per account with findings (worst and still-ongoing first),
   each diagnosis as what broke, since when, what it cost and the first
   sentences of its fix (:mod:`auditor.report.plain` writes them), so a
   1400 x 900 screen shows the first account's fixes;
2. the five troubleshooting questions, answered with row titles at shop names;
3. the per-account table (the numbers of the report's ``accounts[]``);
4. one block per account: the same numbers as cards, a timeline, a
   send-delay histogram and a customer-parameter coverage chart;
5. every finding with its numbers in words, redacted evidence, fix and how
   to validate it.

Charting library: **matplotlib** (its SVG backend, driven through the
object-oriented ``Figure`` API, never pyplot's global state).  Why:

* it is mature and well kept, installs from wheels, and draws entirely
  offline - interactive libraries (Plotly, Bokeh, Altair/Vega) need a
  JavaScript runtime of several hundred kB to MBs inlined into every report;
* its SVG output is deterministic once ``svg.hashsalt`` is fixed and the
  ``Date`` metadata is dropped, so the same audit gives a byte-identical file;
* with ``svg.fonttype = "none"`` text stays ``<text>`` elements instead of
  glyph outlines: small files, selectable and searchable text, and labels that
  can be checked for redaction like the rest of the page.

The SVG is only adjusted after the fact so several charts can live in one HTML
document (XML prologue dropped, element ids prefixed per chart, fixed size
replaced by the viewBox so charts scale with the page).

Privacy: the page is built from the redacted report dict and from the
aggregates of :mod:`auditor.report.timeline`, which hold counts, times and
account ids only.  Every text that reaches the page or a chart - headings,
labels, legends, tooltips (``title`` attributes) - goes through
:func:`auditor.redact.redact_text` once more and is HTML-escaped.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..findings import SEVERITY_RANK, severity_at_least
from ..questions import rules_answering
from ..redact import redact_text
from ..wording import fmt_time, plural
from .plain import account_names, by_rule, cost_text, fix_lead, metric_items, question_answer, rule_title, when_text
from .timeline import DEFAULT_SILENCE_HOURS, AccountTimeline, account_timelines, as_naive_utc

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline import AuditResult

# ---------------------------------------------------------------------------
# colours (shared by CSS and charts)
C_SENT = "#c5d3e6"
C_OK = "#2f9e62"
C_BAD = "#d64541"
C_ERR = "#e8833a"
C_ORDERS = "#1f2937"
C_PURCH = "#6d4bc3"
C_SILENCE = "#7b8794"
C_BURST = "#d64541"
C_TRACK = "#eceff3"
C_WARN = "#e0a100"

RC = {
    "svg.hashsalt": "capi-auditor-report",
    "svg.fonttype": "none",
    "svg.image_inline": True,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial"],
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "axes.labelcolor": "#3b4552",
    "axes.edgecolor": "#a3acb8",
    "axes.linewidth": 0.7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": "#e3e7ec",
    "grid.linewidth": 0.6,
    "xtick.color": "#4b5563",
    "ytick.color": "#4b5563",
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "figure.dpi": 72,
    "path.simplify": True,
    "hatch.color": "#9aa5b1",
    "hatch.linewidth": 0.6,
}
#: Timeline legend entries per row.
LEGEND_COLUMNS = 5
#: Silences at least this long always get a label on the timeline (if it fits) ...
LABEL_SILENCE_HOURS = 24.0
#: ... a shorter one only when it is the longest of the account.
LABEL_SILENCES_MAX = 1
#: Estimated width of one bold 8.5 pt label character at 72 dpi, and the room kept between labels.
LABEL_CHAR_PX = 5.6
LABEL_GAP_PX = 12.0

SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}

VERDICT_LABEL = {"ok": "OK", "problem": "Problem", "unknown": "Unknown"}
SEV_LABEL = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}

UD_LABELS = {
    "em": "em · e-mail", "ph": "ph · phone", "fn": "fn · first name", "ln": "ln · last name",
    "db": "db · birth date", "ge": "ge · gender", "ct": "ct · city", "st": "st · state",
    "zp": "zp · zip", "country": "country", "external_id": "external_id",
    "client_ip_address": "client IP address", "client_user_agent": "client user agent",
    "fbc": "fbc · click id", "fbp": "fbp · browser id",
}


# ---------------------------------------------------------------------------
# text helpers
def _e(value: Any) -> str:
    """Redact, then HTML-escape (quotes too: safe in attributes)."""
    return html.escape(redact_text("" if value is None else value), quote=True)


def _r(value: Any) -> str:
    """Redacted plain text for chart labels (matplotlib escapes it for SVG)."""
    return redact_text("" if value is None else value)


def _ts(value: str | None) -> str:
    return value.replace("T", " ")[:16] + " UTC" if value else "–"


def _dt(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") + " UTC" if ts else "–"


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    s = float(seconds)
    sign = "−" if s < 0 else ""
    s = abs(s)
    if s < 10:
        out = f"{s:.1f} s".replace(".0 s", " s")
    elif s < 60:
        out = f"{s:.0f} s"
    elif s < 3600:
        out = f"{s / 60:.1f} min"
    elif s < 86400:
        out = f"{s / 3600:.1f} h"
    else:
        out = f"{s / 86400:.1f} d"
    return sign + out


def _num(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:.3g}"
    return str(v)


def _paragraphs(text: str) -> str:
    parts = [p.strip() for p in re.split(r"\n\s*\n", (text or "").strip()) if p.strip()]
    return "".join(f"<p>{_e(' '.join(p.split()))}</p>" for p in parts) or "<p>–</p>"


# ---------------------------------------------------------------------------
# charts
class _Charts:
    """Build matplotlib figures and return them as inline SVG strings.

    Axes are placed with fixed margins (in inches) rather than a layout engine,
    and series are drawn as one step patch each (``stairs``) rather than one
    rectangle per bar: both keep rendering fast and the SVG small.
    """

    def __init__(self) -> None:
        import matplotlib

        self.mpl = matplotlib
        self.count = 0

    @staticmethod
    def _figure(w: float, h: float):
        from matplotlib.figure import Figure

        return Figure(figsize=(w, h))

    @staticmethod
    def _axes(fig, left: float, bottom: float, right: float, top: float, **kw):
        """Axes with margins in inches from the figure edges."""
        fw, fh = fig.get_size_inches()
        return fig.add_axes((left / fw, bottom / fh, 1 - (left + right) / fw, 1 - (bottom + top) / fh), **kw)

    def svg(self, fig, label: str) -> str:
        from matplotlib.backends.backend_svg import FigureCanvasSVG

        FigureCanvasSVG(fig)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata=SVG_METADATA)
        self.count += 1
        return _inline_svg(buf.getvalue(), f"c{self.count}", _r(label))

    # -- timeline ---------------------------------------------------------------
    def timeline(self, tl: AccountTimeline) -> str:
        from matplotlib import dates as mdates
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
        from matplotlib.ticker import MaxNLocator

        s = tl.series
        step = timedelta(hours=1) if tl.every == "1h" else timedelta(days=1)
        width = step / timedelta(days=1)
        xs = [mdates.date2num(as_naive_utc(b)) for b in s["bucket"].to_list()]
        edges = xs + [xs[-1] + width] if xs else [0.0, width]
        col = {c: s[c].to_list() or [0] for c in ("orders", "server_purchases", "sent", "accepted", "rejected", "errors")}
        answered = [a + r for a, r in zip(col["accepted"], col["rejected"])]
        unit = "hour" if tl.every == "1h" else "day"

        n_handles = 4 + 2 * bool(sum(col["orders"])) + bool(tl.silences) + bool(tl.bursts)
        extra = 0.2 * (-(-n_handles // LEGEND_COLUMNS) - 1)  # one more legend row above the chart
        fh = 3.7 + extra
        fig = self._figure(11.0, fh)
        ax = self._axes(fig, 0.62, 1.45, 0.12, 0.34 + extra)
        axe = self._axes(fig, 0.62, 0.42, 0.12, fh - 1.22, sharex=ax)
        handles = [
            Patch(facecolor=C_SENT, label=_r("server events sent")),
            Patch(facecolor=C_OK, label=_r("accepted by Meta")),
            Patch(facecolor=C_BAD, label=_r("rejected / failed")),
        ]
        ax.stairs(col["sent"], edges, fill=True, color=C_SENT, linewidth=0)
        ax.stairs(col["accepted"], edges, fill=True, color=C_OK, linewidth=0)
        ax.stairs(answered, edges, baseline=col["accepted"], fill=True, color=C_BAD, linewidth=0)
        if sum(col["orders"]):
            ax.stairs(col["orders"], edges, color=C_ORDERS, linewidth=1.5)
            ax.stairs(col["server_purchases"], edges, color=C_PURCH, linewidth=1.3, linestyle="--")
            handles += [Line2D([], [], color=C_ORDERS, linewidth=1.5, label=_r("backend orders")),
                        Line2D([], [], color=C_PURCH, linewidth=1.3, linestyle="--", label=_r("server purchases"))]
        axe.stairs(col["errors"], edges, fill=True, color=C_ERR, linewidth=0)
        handles.append(Patch(facecolor=C_ERR, label=_r("error lines")))

        top = max([1] + col["sent"] + answered + col["orders"])
        ax.set_ylim(0, top * 1.22)
        axe.set_ylim(0, max([1] + col["errors"]) * 1.25)
        for sil in tl.silences:
            x0, x1 = mdates.date2num(as_naive_utc(sil["start"])), mdates.date2num(as_naive_utc(sil["end"]))
            for a in (ax, axe):
                a.axvspan(x0, x1, facecolor=C_SILENCE, alpha=0.16, hatch="///", edgecolor=C_SILENCE, linewidth=0, zorder=0)
        for x, text in _silence_labels(tl.silences, edges[0], edges[-1], 11.0 - 0.74):
            ax.annotate(_r(text), xy=(x, top * 1.11), ha="center", va="center", fontsize=8.5, color="#374151",
                        fontweight="bold")
        for burst in tl.bursts:
            x0 = mdates.date2num(as_naive_utc(burst["start"]))
            x1 = max(mdates.date2num(as_naive_utc(burst["end"])), x0 + width)
            axe.axvspan(x0, x1, facecolor=C_BURST, alpha=0.2, linewidth=0, zorder=0)
        if tl.silences:
            handles.append(Patch(facecolor=C_SILENCE, alpha=0.3, hatch="///", edgecolor=C_SILENCE, linewidth=0,
                                 label=_r("silence: no server events while orders or logs go on")))
        if tl.bursts:
            handles.append(Patch(facecolor=C_BURST, alpha=0.3, linewidth=0, label=_r("error burst")))
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=min(len(handles), LEGEND_COLUMNS),
                  borderaxespad=0.3, handlelength=1.4, columnspacing=1.3)

        ax.set_ylabel(_r(f"events / {unit}"))
        axe.set_ylabel(_r("errors"))
        for a in (ax, axe):
            a.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.set_xlim(edges[0], edges[-1])
        locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
        axe.xaxis.set_major_locator(locator)
        axe.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=True))
        ax.tick_params(labelbottom=False)
        return self.svg(fig, f"Timeline of account {tl.account}")

    # -- send delay -------------------------------------------------------------
    def delay(self, tl: AccountTimeline) -> str:
        labels = [_r(label) for label, _ in tl.delay_hist]
        counts = [n for _, n in tl.delay_hist]
        colors = [C_SILENCE] + [C_OK] * 3 + [C_WARN] * 2 + [C_BAD] * 3
        fig = self._figure(5.5, 2.8)
        ax = self._axes(fig, 0.62, 0.78, 0.1, 0.12)
        xs = list(range(len(counts)))
        ax.bar(xs, counts, 0.72, color=colors[: len(counts)], linewidth=0)
        for x, n in zip(xs, counts):
            if n:
                ax.annotate(_num(n), xy=(x, n), xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                            fontsize=8, color="#1f2937")
        ax.set_xticks(xs, labels, rotation=30, ha="right", rotation_mode="anchor")
        ax.set_xlim(-0.6, len(counts) - 0.4)
        ax.set_ylim(0, max([1] + counts) * 1.18)
        ax.set_ylabel(_r("server events"))
        ax.tick_params(axis="x", length=0)
        return self.svg(fig, f"Send delay histogram of account {tl.account}")

    # -- parameter coverage ----------------------------------------------------
    def coverage(self, tl: AccountTimeline) -> str:
        from matplotlib.ticker import PercentFormatter

        rows = tl.coverage
        n = len(rows)
        fh = 0.75 + 0.19 * n
        fig = self._figure(5.5, fh)
        ax = self._axes(fig, 1.3, 0.3, 1.2, 0.34)
        ys = list(range(n))[::-1]
        usable = [float(r["usable"] or 0.0) for r in rows]
        wrong = [float(r["wrong"] or 0.0) for r in rows]
        ax.barh(ys, [1.0] * n, 0.68, color=C_TRACK, linewidth=0)
        ax.barh(ys, usable, 0.68, color=C_OK, linewidth=0, label=_r("usable (hashed / present)"))
        ax.barh(ys, wrong, 0.68, left=usable, color=C_BAD, linewidth=0, label=_r("present but wrong"))
        on_purchases = [r["purchase_usable"] for r in rows]
        if rows and rows[0]["purchases"] and rows[0]["purchases"] < rows[0]["events"]:
            pts = [(p, y) for p, y in zip(on_purchases, ys) if p is not None]
            ax.scatter([p for p, _ in pts], [y for _, y in pts], s=22, marker="D", color=C_PURCH, edgecolors="white",
                       linewidths=0.6, zorder=3, clip_on=False, label=_r("on Purchase events"))
        for y, u, wr in zip(ys, usable, wrong):
            txt = f"{u:.0%}" + (f" · {wr:.0%} wrong" if wr else "")
            ax.annotate(_r(txt), xy=(1.0, y), xytext=(7, 0), textcoords="offset points", va="center", fontsize=7.5,
                        color="#b42318" if wr else "#374151", annotation_clip=False)
        ax.set_yticks(ys, [_r(UD_LABELS.get(r["key"], r["key"])) for r in rows], fontsize=7.5)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xlim(-0.02, 1.0)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.grid(axis="x", color="#e3e7ec", linewidth=0.6)
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3, borderaxespad=0.2, handlelength=1.2,
                  columnspacing=1.0, fontsize=7.5)
        return self.svg(fig, f"Customer parameter coverage of account {tl.account}")


_ID_RE = re.compile(r'\bid="([^"]+)"')


def _silence_labels(silences: list[dict[str, Any]], x_min: float, x_max: float, width_in: float) -> list[tuple[float, str]]:
    """Where to write "no server events for N h" above the timeline: only for
    the significant silences (a day or longer, else the account's longest), longest
    first, each kept inside the plot and skipped when it would overlap a label
    already placed (the list under the chart names every silence)."""
    from matplotlib import dates as mdates

    span = (x_max - x_min) or 1.0
    px_per_x = width_in * 72 / span
    placed: list[tuple[float, float]] = []
    out = []
    ranked = sorted(silences, key=lambda s: (-s["hours"], s["start"]))
    for rank, sil in enumerate(ranked):
        if sil["hours"] < LABEL_SILENCE_HOURS and rank >= LABEL_SILENCES_MAX:
            break
        text = f"no server events for {sil['hours']:.1f} h"
        half = len(text) * LABEL_CHAR_PX / 2 / px_per_x
        centre = (mdates.date2num(as_naive_utc(sil["start"])) + mdates.date2num(as_naive_utc(sil["end"]))) / 2
        centre = min(max(centre, x_min + half), x_max - half)
        box = (centre - half - LABEL_GAP_PX / px_per_x, centre + half + LABEL_GAP_PX / px_per_x)
        if any(box[0] < b and a < box[1] for a, b in placed):
            continue
        placed.append(box)
        out.append((centre, text))
    return sorted(out)


def _inline_svg(svg: str, prefix: str, label: str) -> str:
    """Make matplotlib's standalone SVG fit inside an HTML page."""
    svg = svg[svg.index("<svg"):]
    head_end = svg.index(">") + 1
    head = svg[:head_end]
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    head = re.sub(r'\sxmlns(:xlink)?="[^"]*"', "", head)
    head = head.replace("<svg", f'<svg class="chart" role="img" aria-label="{html.escape(label, quote=True)}"', 1)
    body = svg[head_end:].replace("xlink:href=", "href=")
    body = _ID_RE.sub(lambda m: f'id="{prefix}-{m.group(1)}"', body)
    body = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}-{m.group(1)})", body)
    body = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', body)
    # one line per element keeps the file compact; the path data keeps its own newlines out
    body = re.sub(r"\s*\n\s*", "\n", body)
    return head + body.strip()


# ---------------------------------------------------------------------------
# page
CSS = """
:root{--ink:#1f2937;--muted:#5b6573;--line:#e3e7ec;--bg:#f6f7f9;--card:#fff;
--ok:#2f9e62;--bad:#d64541;--warn:#b7791f;--crit:#9b1c1c;--high:#d64541;--med:#c27803;--low:#2b6cb0;--info:#6b7280}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans","DejaVu Sans",sans-serif}
main{max-width:1180px;margin:0 auto;padding:28px 28px 48px}
h1{font-size:26px;margin:0 0 4px;letter-spacing:-.01em}
h2{font-size:19px;margin:34px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:16px;margin:0}
h4{font-size:13px;margin:14px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
p{margin:6px 0}
code,pre,.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}
.meta{color:var(--muted);font-size:13px;margin:2px 0}
.lead{display:flex;flex-wrap:wrap;gap:8px;margin:14px 0 0}
.pill{display:inline-block;border-radius:999px;padding:2px 10px;font-size:12px;font-weight:600;background:#e9edf2;color:var(--ink);white-space:nowrap}
.badge{display:inline-block;min-width:84px;text-align:center;border-radius:6px;padding:3px 8px;font-size:12px;font-weight:700;letter-spacing:.03em;text-transform:uppercase;color:#fff;white-space:nowrap}
.v-ok{background:var(--ok)}.v-problem{background:var(--bad)}.v-unknown{background:var(--warn)}
.s-critical{background:var(--crit);color:#fff}.s-high{background:var(--high);color:#fff}.s-medium{background:var(--med);color:#fff}
.s-low{background:var(--low);color:#fff}.s-info{background:var(--info);color:#fff}.s-none{background:var(--ok);color:#fff}
nav.toc{margin:12px 0 0;font-size:13px;color:var(--muted);max-width:100%}
nav.toc>div{display:flex;flex-wrap:wrap;gap:2px 14px;max-width:100%;overflow-x:auto}
nav.toc .toc-main a{font-weight:650}
nav.toc .toc-accounts{margin-top:4px;font-size:12.5px}
nav.toc a{color:#2b5fab;text-decoration:none;white-space:nowrap;max-width:22ch;overflow:hidden;text-overflow:ellipsis}
i.dot{display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:5px;vertical-align:1px;background:var(--info)}
i.dot.s-critical{background:var(--crit)}i.dot.s-high{background:var(--high)}i.dot.s-medium{background:var(--med)}
i.dot.s-low{background:var(--low)}i.dot.s-none{background:var(--ok)}
#todo h2{margin-top:22px}
article.todo{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px 6px;margin:10px 0}
article.todo>header{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 12px;margin-bottom:4px}
article.todo>header .badge{min-width:0;font-size:11px;padding:2px 7px}
article.todo>header a.more{margin-left:auto;font-size:12.5px;color:#2b5fab;text-decoration:none}
ol.actions{list-style:none;margin:0;padding:0}
ol.actions li.action{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,7fr);gap:4px 18px;padding:6px 0;border-top:1px solid var(--line)}
ol.actions li.action:first-child{border-top:0}
.action .what strong{font-size:13.5px}
.action .when,.action .cost{font-size:12px;color:var(--muted)}
.action .cost{color:#8a2a1c;font-weight:600}
.action .fix{font-size:13px}
.action .fix a.details{font-size:12px;color:#2b5fab;margin-left:4px;text-decoration:none;white-space:nowrap}
p.healthy{font-size:13px;color:var(--muted)}
p.healthy a{color:#2b5fab;text-decoration:none}
a.acct-name{color:inherit;font-weight:650;text-decoration:none;border-bottom:1px dotted #9aa5b1}
.rule>header .rule-id{color:var(--muted);font-size:12px}
.mtable{margin:6px 0 10px}
.mtable h4{margin:8px 0 4px}
.mtable table{font-size:12px;width:auto;max-width:100%}
.mtable td,.mtable th{padding:3px 8px}
.questions{list-style:none;margin:0;padding:0;display:grid;gap:8px}
.questions li{display:grid;grid-template-columns:100px 1fr;gap:14px;align-items:start;background:var(--card);border:1px solid var(--line);border-left:5px solid var(--line);border-radius:8px;padding:10px 14px}
.questions li.q-ok{border-left-color:var(--ok)}.questions li.q-problem{border-left-color:var(--bad)}.questions li.q-unknown{border-left-color:var(--warn)}
.questions .q-title{font-weight:650}
.questions .q-detail{color:var(--muted);font-size:13px}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden;font-size:13px}
th,td{padding:7px 9px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#f0f3f6;font-size:11.5px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);font-weight:650}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr:last-child td{border-bottom:0}
table.accounts{table-layout:fixed}
table.accounts th{white-space:normal}
table.accounts .who .badge{min-width:0;margin-bottom:4px;font-size:11px;padding:2px 7px}
table.accounts .sub{overflow-wrap:anywhere}
a.acct-id{color:inherit;text-decoration:none;border-bottom:1px dotted #9aa5b1}
.acct-id{font-weight:650;font-family:ui-monospace,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
.sub{color:var(--muted);font-size:12px}
.chips{display:flex;flex-wrap:wrap;gap:4px}
.chip{display:inline-block;border-radius:5px;padding:1px 7px;font-size:11.5px;font-weight:600;border:1px solid transparent;white-space:nowrap}
.chip.c-critical{background:#fde8e8;color:var(--crit);border-color:#f8b4b4}.chip.c-high{background:#fdecec;color:#b42318;border-color:#f5c2c0}
.chip.c-medium{background:#fdf3e1;color:#8a5a00;border-color:#f3d49a}.chip.c-low{background:#e8f1fb;color:#1e4e8c;border-color:#bcd4f0}
.chip.c-info{background:#eef0f3;color:#4b5563;border-color:#d5d9df}.chip.stopped{background:#f3f4f6;color:#6b7280;border-color:#dde1e6;font-weight:500}
.footnote{font-size:12px;color:var(--muted);margin-top:6px}
section.account{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px 14px;margin:16px 0}
section.account header{display:flex;flex-wrap:wrap;align-items:baseline;gap:10px 14px;margin-bottom:8px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:8px;margin:8px 0 10px}
.kpi{border:1px solid var(--line);border-radius:8px;padding:6px 10px;background:#fbfcfd}
.kpi b{display:block;font-size:18px;font-variant-numeric:tabular-nums}
.kpi span{font-size:11.5px;color:var(--muted)}
.kpi.bad b{color:var(--bad)}
figure{margin:6px 0 0}
figcaption{font-size:12.5px;color:var(--muted);margin:2px 0 4px}
figcaption strong{color:var(--ink)}
svg.chart{display:block;width:100%;height:auto}
.twocol svg.chart{max-width:640px}
td.diag .chip{white-space:normal;overflow-wrap:anywhere}
.twocol{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.marks{margin:6px 0 0;padding-left:18px;font-size:12.5px}
.marks li{margin:1px 0}
.none{color:var(--muted);font-size:13px;font-style:italic;padding:18px 0}
.rule{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:16px 0;overflow:hidden}
.rule>header{display:flex;flex-wrap:wrap;align-items:center;gap:10px;padding:10px 16px;border-bottom:1px solid var(--line);background:#fafbfc}
.rule>header .title{color:var(--muted);font-size:13.5px}
article.finding{padding:12px 16px;border-bottom:1px solid var(--line)}
article.finding h3{font-size:14.5px;display:flex;flex-wrap:wrap;gap:8px;align-items:baseline}
.state{font-size:12px;font-weight:600;border-radius:5px;padding:1px 7px}
.state.ongoing{background:#fde8e8;color:#9b1c1c}.state.stopped{background:#e6f4ea;color:#1e6b3a}
dl.numbers{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:6px;margin:10px 0;align-items:start}
dl.numbers>div.wide{grid-column:1/-1}
dl.numbers>div{border:1px solid var(--line);border-radius:6px;padding:4px 8px;background:#fbfcfd}
dl.numbers dt{color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.03em}
dl.numbers dd{margin:0;font-size:13px;font-weight:600;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.evidence{background:#f4f6f8;border:1px solid var(--line);border-radius:6px;padding:4px 10px;margin:4px 0 0}
.evidence .ev{padding:4px 0;border-bottom:1px dashed #dde2e8}.evidence .ev:last-child{border-bottom:0}
.evidence .loc{color:#2b5fab;font-size:11px;overflow-wrap:anywhere}
.evidence code{display:block;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.fixval{display:grid;grid-template-columns:1fr 1fr;gap:16px;padding:10px 16px 14px;background:#fbfcfd}
.fixval h4{margin-top:4px}
.notes li{font-size:12.5px;color:var(--muted);margin:3px 0}
footer{margin-top:36px;font-size:12px;color:var(--muted);border-top:1px solid var(--line);padding-top:10px}
@media (max-width:820px){.twocol,.fixval,ol.actions li.action{grid-template-columns:1fr}.questions li{grid-template-columns:1fr}main{padding:16px}}
@page{size:A4;margin:12mm}
@media print{
 body{background:#fff;font-size:10.5pt}
 main{max-width:none;padding:0}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 nav.toc{display:none}
 section.account,.rule,table{box-shadow:none}
 figure,.kpis,dl.numbers,.evidence,.questions li,tr,.fixval,li.action{break-inside:avoid}
 section.account>header{break-after:avoid}
 h2,h3,h4{break-after:avoid}
}
"""


def _worst(findings: list[dict[str, Any]]) -> str | None:
    sev = [f["severity"] for f in findings]
    return min(sev, key=lambda s: SEVERITY_RANK.get(s, 99)) if sev else None


def _sev_badge(sev: str | None) -> str:
    if sev is None:
        return '<span class="badge s-none">No findings</span>'
    return f'<span class="badge s-{_e(sev)}">{_e(SEV_LABEL.get(sev, sev))}</span>'


def _chips(fs: list[dict[str, Any]], titles: dict[str, str]) -> str:
    """Diagnosis chips, one per rule, named by its title (``×n`` when several
    findings): ``●`` = still going on at the end of the evidence, grey =
    stopped before the end; the rule id and the summaries are the tooltip."""
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for f in fs:
        by_rule.setdefault(f["rule"], []).append(f)
    out = []
    for rule, items in by_rule.items():
        sev = _worst(items)
        ongoing = any(f.get("ongoing") is True for f in items)
        stopped = all(f.get("ongoing") is False for f in items)
        mark = "● " if ongoing else ""
        count = f" ×{len(items)}" if len(items) > 1 else ""
        state = "stopped before the end of the evidence" if stopped else ("still going on" if ongoing else "")
        tip = f"{rule} · {sev}{': ' + state if state else ''}. " + " | ".join(f["summary"] for f in items[:3])
        cls = f"chip c-{_e(sev)}" + (" stopped" if stopped else "")
        out.append(f'<span class="{cls}" title="{_e(tip)}">{_e(mark + rule_title(rule, titles) + count)}</span>')
    return "".join(out)


def _kpi(label: str, value: Any, bad: bool = False, title: str | None = None) -> str:
    t = f' title="{_e(title)}"' if title else ""
    return f'<div class="kpi{" bad" if bad else ""}"{t}><b>{_e(_num(value) if not isinstance(value, str) else value)}</b><span>{_e(label)}</span></div>'


def timelines_of(result: AuditResult) -> dict[str, AccountTimeline]:
    """The per-account timelines the HTML report draws, from the result's rows."""
    silence = DEFAULT_SILENCE_HOURS
    row = result.ruleset.rules.get("integration-broken-after-update")
    if row is not None:
        silence = float(row.thresholds.get("silence_hours", silence))
    missing = result.ruleset.rules.get("server-events-missing")
    biz = missing.thresholds if missing is not None else {}
    return account_timelines(result.rows, silence_hours=silence, business_hours=biz.get("business_hours"),
                             business_timezone=biz.get("business_timezone"))


def render_html(report: dict[str, Any], result: AuditResult | None = None) -> str:
    """The whole report as one self-contained HTML document (deterministic)."""
    timelines: dict[str, AccountTimeline] = {}
    titles: dict[str, str] = {}
    answering: dict[int, tuple[str, ...]] = {}
    if result is not None:
        if result.merged is not None:  # a cluster run: the workers drew them from their rows
            timelines = dict(result.merged.timelines or {})
        else:
            timelines = timelines_of(result)
        titles = {rid: r.title for rid, r in result.ruleset.rules.items()}
        answering = {q["step"]: rules_answering(result.ruleset, q["step"]) for q in report["questions"]}

    findings = report["findings"]
    by_account: dict[str | None, list[dict[str, Any]]] = {}
    for f in findings:
        by_account.setdefault(f["account"], []).append(f)

    def account_key(a: dict[str, Any]) -> tuple:
        fs = by_account.get(a["account"], [])
        worst = _worst(fs)
        # worst first; among equals, an ongoing problem before a past one, then the bigger one
        top = [f for f in fs if f["severity"] == worst]
        ongoing = [f for f in top if f.get("ongoing") is True]
        size = sum(int(f.get("count") or 0) for f in (ongoing or top))
        return (SEVERITY_RANK.get(worst, 99) if worst else 99, not ongoing, -size, -len(fs), a["account"])

    accounts = sorted(report["accounts"], key=account_key)
    anchors = {a["account"]: f"account-{i + 1}" for i, a in enumerate(accounts)}
    names = account_names(accounts)

    out: list[str] = []
    w = out.append
    inp, win, tool, rs = report["inputs"], report["window"], report["tool"], report["ruleset"]
    sev_counts: dict[str, int] = {}
    for f in findings:
        sev_counts[f["severity"]] = sev_counts.get(f["severity"], 0) + 1
    n_problem = sum(1 for q in report["questions"] if q["verdict"] == "problem")

    w("<!DOCTYPE html>")
    w('<html lang="en"><head><meta charset="utf-8">')
    w('<meta name="viewport" content="width=device-width, initial-scale=1">')
    w(f'<meta name="generator" content="{_e(tool["name"])} {_e(tool["version"])}">')
    w(f"<title>CAPI audit – {len(accounts)} accounts, {len(findings)} findings</title>")
    w(f"<style>{CSS.strip()}</style></head><body><main>")

    # -- header -----------------------------------------------------------------
    w('<header id="top">')
    w("<h1>Conversions API audit</h1>")
    w(f'<p class="meta">Evidence from <strong>{_e(_ts(win["start"]))}</strong> to <strong>{_e(_ts(win["end"]))}</strong> · '
      f'{_e(_num(inp["files"]))} files, {_e(_num(inp["records"]))} records, {_e(_num(inp["skipped_lines"]))} skipped lines · '
      f'{_e(tool["name"])} {_e(tool["version"])}, ruleset {_e(rs["name"])} {_e(rs["version"])}</p>')
    w('<div class="lead">')
    w(f'<span class="pill">{_e(plural(len(accounts), "account"))}</span>')
    w(f'<span class="pill">{n_problem} of {len(report["questions"])} questions with a problem</span>')
    for sev in sorted(sev_counts, key=lambda s: SEVERITY_RANK.get(s, 99)):
        w(f'<span class="pill s-{_e(sev)}">{sev_counts[sev]} {_e(sev)}</span>')
    if not findings:
        w('<span class="pill s-none">no findings</span>')
    w("</div>")
    w('<nav class="toc" aria-label="Contents"><div class="toc-main"><a href="#todo">What to do</a><a href="#questions">Questions</a>'
      '<a href="#accounts">Accounts</a><a href="#findings">Findings</a></div><div class="toc-accounts">'
      + "".join(f'<a href="#{anchors[a["account"]]}" title="{_e("account " + a["account"])}">'
                f'{_sev_dot(_worst(by_account.get(a["account"], [])))}{_e(names[a["account"]])}</a>' for a in accounts)
      + "</div></nav>")
    w("</header>")

    # -- what to do: per account, what broke, since when, what it cost, the fix --
    _todo_section(w, accounts, by_account, titles, names, anchors)

    # -- questions --------------------------------------------------------------
    w('<section id="questions"><h2>Troubleshooting questions</h2><ol class="questions">')
    for q in report["questions"]:
        v = q["verdict"]
        rules = answering.get(q["step"])
        related = [f for f in findings if rules and f["rule"] in rules]
        if q["step"] == 1:  # as the verdict itself: delivery failures of high severity, ongoing ones first
            related = [f for f in related if severity_at_least(f["severity"], "high")]
            related = [f for f in related if f.get("ongoing") is not False] or related
        answer = question_answer(v, q["detail"], related, titles, names) if rules is not None else q["detail"]
        w(f'<li class="q-{_e(v)}"><span class="badge v-{_e(v)}">{_e(VERDICT_LABEL.get(v, v))}</span>'
          f'<div><div class="q-title">{_e(q["step"])}. {_e(q["question"])}</div>'
          f'<div class="q-detail">{_e(answer)}</div></div></li>')
    w("</ol></section>")

    # -- accounts table ---------------------------------------------------------
    w('<section id="accounts"><h2>Accounts</h2>')
    if not accounts:
        w('<p class="none">No account could be identified in the evidence.</p>')
    else:
        w('<table class="accounts"><colgroup><col style="width:23%"><col style="width:7%"><col style="width:8%">'
          '<col style="width:9%"><col style="width:6%"><col style="width:9%"><col style="width:10%"><col style="width:28%">'
          '</colgroup><thead><tr><th>Account</th><th class=n>Orders</th><th class=n>Server events</th>'
          '<th class=n>Server purchases</th><th class=n>Ratio</th><th class=n>Match quality (est.)*</th>'
          '<th class=n>Delay median / p95</th><th>Diagnoses</th></tr></thead><tbody>')
        for a in accounts:
            fs = by_account.get(a["account"], [])
            tl = timelines.get(a["account"])
            delay = tl.delay if tl else None
            shop = ", ".join(a.get("shops") or [])
            ratio = "–" if a["purchase_ratio"] is None else f"{a['purchase_ratio']:.2f}"
            emq = "–" if a["estimated_match_quality"] is None else f"{a['estimated_match_quality']:.1f} / 10"
            delays = f"{_dur(delay['median_s'])} / {_dur(delay['p95_s'])}" if delay else "–"
            diag = _chips(fs, titles) or '<span class="sub">none</span>'
            ratio_title = "server purchases per backend order" if a["purchase_ratio"] is not None else "no backend orders in the input"
            w(f'<tr><td><div class="who">{_sev_badge(_worst(fs))}<div><a class="acct-name" href="#{anchors[a["account"]]}">{_e(names[a["account"]])}</a>'
              f'<div class="sub">pixel <span class="acct-id">{_e(a["account"])}</span></div>'
              + (f'<div class="sub">{_e(shop)}</div>' if shop else "") + "</div></div></td>"
              f'<td class=n>{_e(_num(a["orders"]))}</td><td class=n>{_e(_num(a["server_events"]))}</td>'
              f'<td class=n>{_e(_num(a["server_purchases"]))}</td>'
              f'<td class=n title="{_e(ratio_title)}">{_e(ratio)}</td>'
              f"<td class=n>{_e(emq)}</td><td class=n>{_e(delays)}</td>"
              f'<td class="diag"><div class="chips">{diag}</div></td></tr>')
        w("</tbody></table>")
        w('<p class="footnote">* Estimated match quality is the auditor\'s <strong>estimate</strong> (0–10) from customer-parameter '
          "coverage of website server Purchase events (all website events when there is no Purchase), weighted by the ruleset; it is not Meta's Event Match Quality score. "
          "Delays are logged_at − event_time of server events. Ratio = server purchases per backend order "
          "(needs order evidence). ● = still going on at the end of the evidence; grey = stopped before it. "
          "Hover a diagnosis for its summary.</p>")
    w("</section>")

    # -- per account --------------------------------------------------------------
    charts = _Charts() if timelines else None
    with charts.mpl.rc_context(RC) if charts else contextlib.nullcontext():
        for a in accounts:
            _account_block(w, a, by_account.get(a["account"], []), timelines.get(a["account"]), charts, anchors[a["account"]],
                           names[a["account"]], titles)

    # -- findings -----------------------------------------------------------------
    w('<section id="findings"><h2>Findings</h2>')
    if not findings:
        w('<p class="none">No findings: nothing in the evidence matches a diagnosis of the ruleset.</p>')
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        groups.setdefault(f["rule"], []).append(f)
    n = 0
    for rule, items in groups.items():
        worst = _worst(items)
        w(f'<section class="rule" id="rule-{_e(rule)}"><header>{_sev_badge(worst)}'
          + (f'<h3>{_e(titles[rule])}</h3><span class="rule-id mono">{_e(rule)}</span>' if rule in titles
             else f'<h3 class="mono">{_e(rule)}</h3>')
          + f'<span class="sub">{len(items)} finding{"s" if len(items) != 1 else ""}</span></header>')
        same_fix = len({(f["fix"], f["validate"]) for f in items}) == 1
        for f in items:
            n += 1
            _finding_block(w, f, n, anchors, names, with_fix=not same_fix)
        if same_fix:
            _fixval(w, items[0])
        w("</section>")
    w("</section>")

    # -- notes ------------------------------------------------------------------
    notes = list(report.get("notes", []))
    probs = report.get("plugin_problems", [])
    if notes or probs or inp["errors_total"]:
        w('<section id="notes"><h2>Notes</h2><ul class="notes">')
        for note in notes:
            w(f"<li>{_e(note)}</li>")
        for p in probs:
            w(f'<li><strong>Plugin problem:</strong> {_e(p["plugin"])} in {_e(p["where"])}: {_e(p["error"])}</li>')
        if inp["errors_total"]:
            first = ", ".join(f'{e["file"]}:{e["line"]} ({e["reason"]})' for e in inp["errors"][:3])
            w(f'<li>{_e(_num(inp["errors_total"]))} input lines or files were skipped; first: {_e(first)}. '
              "The JSON report lists them.</li>")
        w("</ul></section>")

    w(f'<footer>Generated by {_e(tool["name"])} {_e(tool["version"])} from the evidence only (no clock, no network). '
      "Customer data, IP addresses and access tokens are redacted everywhere in this file. "
      "Times are UTC.</footer>")
    w("</main></body></html>")
    return "\n".join(out) + "\n"


def _todo_section(w, accounts: list[dict[str, Any]], by_account: dict[str | None, list[dict[str, Any]]],
                  titles: dict[str, str], names: dict[str, str], anchors: dict[str, str]) -> None:
    """The first screen: per account with findings (worst first), each
    diagnosis as what broke, since when, what it cost and the fix."""
    w('<section id="todo"><h2>What to do</h2>')
    healthy = [a for a in accounts if not by_account.get(a["account"])]
    troubled = [a for a in accounts if by_account.get(a["account"])]
    if not troubled:
        w('<p class="none">Nothing to fix: no finding in the evidence.</p>')
    for i, a in enumerate(troubled):
        fs = by_account[a["account"]]
        shop = ", ".join(a.get("shops") or [])
        w(f'<article class="todo" id="todo-{i + 1}" data-account="{_e(a["account"])}"><header>{_sev_badge(_worst(fs))}'
          f'<h3>{_e(names[a["account"]])}</h3><span class="sub">pixel <span class="acct-id">{_e(a["account"])}</span>'
          + (f" · {_e(shop)}" if shop and names[a["account"]] not in ("", shop) else "") + "</span>"
          f'<a class="more" href="#{anchors[a["account"]]}">evidence and charts ↓</a></header><ol class="actions">')
        for rule, items in by_rule(fs):
            sev = _worst(items) or "info"
            lead, rest = fix_lead(items[0]["fix"])
            title = rule_title(rule, titles)
            more = f'<a class="details" href="#rule-{_e(rule)}">{"whole fix" if rest else "details"} ↓</a>'
            w(f'<li class="action"><div class="what"><span class="chip c-{_e(sev)}">{_e(SEV_LABEL.get(sev, sev))}</span> '
              f'<strong>{_e(title)}</strong><div class="when">{_e(when_text(items))}</div>'
              f'<div class="cost">{_e(cost_text(items))}</div></div>'
              f'<div class="fix"><b>Fix:</b> {_e(lead)} {more}</div></li>')
        w("</ol></article>")
    if healthy:
        w('<p class="healthy"><span class="badge s-none">No findings</span> '
          + ", ".join(f'<a href="#{anchors[a["account"]]}">{_e(names[a["account"]])}</a>' for a in healthy)
          + ": nothing to fix in the evidence.</p>")
    w("</section>")


def _sev_dot(sev: str | None) -> str:
    return f'<i class="dot s-{_e(sev or "none")}" aria-hidden="true"></i>'


def _account_block(w, a: dict[str, Any], fs: list[dict[str, Any]], tl: AccountTimeline | None, charts: _Charts | None,
                   anchor: str, name: str, titles: dict[str, str]) -> None:
    shop = ", ".join(a.get("shops") or [])
    w(f'<section class="account" id="{anchor}"><header>{_sev_badge(_worst(fs))}'
      f'<h3>{_e(name)} <span class="sub">pixel</span> <span class="acct-id">{_e(a["account"])}</span></h3>'
      + (f'<span class="sub">{_e(shop)}</span>' if shop else "")
      + (f'<span class="sub">connector {_e(", ".join(a["connector_versions"]))}</span>' if a.get("connector_versions") else "")
      + f'<span class="sub">{_e(_ts(a.get("first_seen")))} → {_e(_ts(a.get("last_seen")))}</span></header>')
    if fs:
        w('<div class="chips">' + _chips(fs, titles) + "</div>")
    # the same numbers as the account table and the JSON report's accounts[]
    w('<div class="kpis">')
    w(_kpi("server events", a["server_events"], title="server-event rows; for an account seen only through Graph API "
                                                       "responses, the events those responses stand for"))
    w(_kpi("accepted responses", a["accepted_responses"]))
    w(_kpi("error lines", a["error_lines"], bad=a["error_lines"] > 0))
    w(_kpi("backend orders", a["orders"]))
    w(_kpi("server purchases", a["server_purchases"]))
    if tl is not None and tl.silences:
        w(_kpi("longest silence", f"{max(s['hours'] for s in tl.silences):.1f} h", bad=True))
    w("</div>")
    if tl is None or charts is None:
        w('<p class="none">No timed evidence for this account.</p></section>')
        return
    unit = "hour" if tl.every == "1h" else "day"
    drawn = sum(tl.series["sent"].to_list())
    untimed = (f" {_num(a['server_events'] - drawn)} server events without a time are not drawn."
               if a["server_events"] > drawn else "")
    w(f'<figure><figcaption><strong>Timeline</strong> per {unit} (UTC): server events sent, accepted and rejected; '
      "error lines below" + ("; backend orders and server purchases as lines" if sum(tl.series["orders"].to_list()) else "")
      + f".{_e(untimed)}</figcaption>")
    w(charts.timeline(tl))
    marks = [f"<li>{_e(_silence_text(s))}</li>" for s in sorted(tl.silences, key=lambda s: (-s["hours"], s["start"]))[:5]]
    if len(tl.silences) > 5:
        marks.append(f"<li>… and {len(tl.silences) - 5} shorter silences.</li>")
    bursts = sorted(tl.bursts, key=lambda b: (-b["errors"], b["start"]))
    for b in bursts[:5]:
        marks.append(f"<li><strong>Error burst</strong> {_e(_dt(b['start']))} → {_e(_dt(b['end']))}: {_e(_num(b['errors']))} error lines.</li>")
    if len(bursts) > 5:
        marks.append(f"<li>… and {len(bursts) - 5} smaller error bursts.</li>")
    if marks:
        w('<ul class="marks">' + "".join(marks) + "</ul>")
    w("</figure>")
    w('<div class="twocol">')
    d = tl.delay
    if d:
        neg = f", {_num(d['negative'])} with event_time after the send" if d["negative"] else ""
        w(f"<figure><figcaption><strong>Send delay</strong> (logged_at − event_time) of {_e(_num(d['events']))} server events: "
          f"median {_e(_dur(d['median_s']))}, p95 {_e(_dur(d['p95_s']))}, max {_e(_dur(d['max_s']))}{_e(neg)}.</figcaption>")
        w(charts.delay(tl))
        w("</figure>")
    else:
        w('<figure><figcaption><strong>Send delay</strong></figcaption><p class="none">No server events with both an event_time '
          "and a send time (raw API responses carry no payload).</p></figure>")
    if tl.coverage:
        n_events = tl.coverage[0]["events"]
        n_purch = tl.coverage[0]["purchases"] or 0
        purch = (f" The diamond is the share on the {_num(n_purch)} Purchase events alone."
                 if 0 < n_purch < n_events else "")
        w(f"<figure><figcaption><strong>Customer parameters</strong>: share of {_e(_num(n_events))} server events carrying each "
          f"key in a usable form (SHA-256 where required, clear where Meta wants it clear).{_e(purch)}</figcaption>")
        w(charts.coverage(tl))
        w("</figure>")
    else:
        w('<figure><figcaption><strong>Customer parameters</strong></figcaption><p class="none">No server-event payloads in the '
          "evidence for this account.</p></figure>")
    w("</div></section>")


def _silence_text(s: dict[str, Any]) -> str:
    """One silence in words: when, how long, and what happened meanwhile."""
    inside = []
    if s.get("orders_inside"):
        inside.append(plural(s["orders_inside"], "backend order"))
    if s.get("browser_inside"):
        inside.append(plural(s["browser_inside"], "browser event") + " of kinds the server sends")
    why = (" while " + " and ".join(inside) + " came in" if inside
           else f" while {plural(s['evidence_rows'], 'other line')} were logged, {s.get('business_hours') or 0:.1f} h of it in business hours")
    return f"Silence {fmt_time(s['start'])} → {fmt_time(s['end'])}: no server event for {s['hours']:.1f} h{why}."


def _finding_block(w, f: dict[str, Any], n: int, anchors: dict[str, str], names: dict[str, str], with_fix: bool) -> None:
    acct = f["account"]
    acct_html = (f'<a class="acct-name" href="#{anchors[acct]}">{_e(names.get(acct, acct))}</a> '
                 f'<span class="sub">pixel <span class="acct-id">{_e(acct)}</span></span>' if acct in anchors
                 else f'<span class="acct-id">{_e(acct or "all accounts")}</span>')
    state = ""
    if f.get("ongoing") is True:
        state = '<span class="state ongoing">still going on at the end of the evidence</span>'
    elif f.get("ongoing") is False:
        state = '<span class="state stopped">stopped</span>'
    w(f'<article class="finding" id="finding-{n}"><h3><span class="chip c-{_e(f["severity"])}">{_e(SEV_LABEL.get(f["severity"], f["severity"]))}</span>'
      f"{acct_html} {state}</h3>")
    w(f"<p>{_e(f['summary'])}</p>")
    items = [{"label": "records", "text": _num(f["count"])}, {"label": "first seen", "text": _ts(f["first_seen"])},
             {"label": "last seen", "text": _ts(f["last_seen"])}]
    items += metric_items(f.get("metrics"))
    simple = [it for it in items if "text" in it]
    tables = [it for it in items if "rows" in it]
    w('<dl class="numbers">' + "".join(f'<div{" class=wide" if len(it["text"]) > 48 else ""}><dt>{_e(it["label"])}</dt>'
                                        f'<dd>{_e(it["text"])}</dd></div>' for it in simple) + "</dl>")
    for t in tables:
        more = f'<p class="sub">… and {t["more"]} more.</p>' if t["more"] else ""
        w(f'<div class="mtable"><h4>{_e(t["label"])}</h4><table><thead><tr>'
          + "".join(f"<th>{_e(c)}</th>" for c in t["columns"]) + "</tr></thead><tbody>"
          + "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in t["rows"])
          + f"</tbody></table>{more}</div>")
    if f["evidence"]:
        w('<h4>Evidence (redacted)</h4><div class="evidence">'
          + "".join(f'<div class="ev"><div class="loc">{_e(e["file"])}:{_e(e["line"])}</div><code>{_e(e["excerpt"])}</code></div>'
                    for e in f["evidence"])
          + "</div>")
    w("</article>")
    if with_fix:
        _fixval(w, f)


def _fixval(w, f: dict[str, Any]) -> None:
    w(f'<div class="fixval"><div><h4>Fix</h4>{_paragraphs(f["fix"])}</div>'
      f'<div><h4>How to validate</h4>{_paragraphs(f["validate"])}</div></div>')
