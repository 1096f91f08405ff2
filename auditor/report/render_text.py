"""Human renderers: a rich terminal table and Markdown for tickets.

Both read the redacted report dict only (see :mod:`auditor.report.model`).
Accounts are named as on the HTML page (:func:`auditor.report.plain.account_names`:
the shop's short name next to the pixel id a person needs in Events Manager).
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..wording import NO_TIMESTAMP
from .plain import account_names

VERDICT_STYLE = {"ok": ("OK", "bold green"), "problem": ("PROBLEM", "bold red"), "unknown": ("UNKNOWN", "bold yellow")}
SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_MAX_DAYS = 31


def sparkline(values: list[int], top: int | None = None) -> str:
    """Unicode block sparkline; a zero is drawn as ``·`` so a silent day shows.
    ``top`` fixes the scale (to compare two series on the same one)."""
    top = max(values, default=0) if top is None else top
    out = []
    for v in values:
        if v <= 0 or top <= 0:
            out.append("·")
        else:
            out.append(SPARK_BLOCKS[min(len(SPARK_BLOCKS) - 1, int(v * len(SPARK_BLOCKS) / (top + 1e-9)))])
    return "".join(out)


def daily_spark_lines(accounts: list[dict[str, Any]]) -> list[str]:
    """One line per account (two with backend orders): a sparkline per UTC day
    of orders vs server purchases on one scale, or of server events when the
    evidence has no orders, so a silence shows as a run of ``·``.  Long spans
    keep their last SPARK_MAX_DAYS days.  Accounts are named as in the table:
    the short shop name, else the pixel id."""
    shops = _shop_names(accounts)
    rows = [(shops.get(a["account"], a["account"]), (a.get("daily") or [])[-SPARK_MAX_DAYS:]) for a in accounts]
    rows = [(acc, days) for acc, days in rows if days]
    if not rows:
        return []
    id_w = max(len(acc) for acc, _ in rows)
    n_w = max(len(days) for _, days in rows)
    lines = []
    for acc, days in rows:
        first, last = days[0]["date"][5:], days[-1]["date"][5:]
        if sum(d["orders"] for d in days):
            orders = [d["orders"] for d in days]
            purchases = [d["server_purchases"] for d in days]
            top = max(orders + purchases)
            lines.append(f"{acc:<{id_w}}  {first}  {sparkline(orders, top):<{n_w}}  {last}  orders")
            lines.append(f"{'':<{id_w}}  {'':5}  {sparkline(purchases, top):<{n_w}}  {'':5}  server purchases")
        else:
            lines.append(f"{acc:<{id_w}}  {first}  {sparkline([d['server_events'] for d in days]):<{n_w}}  {last}  server events")
    return lines


def _ts(value: str | None) -> str:
    return value.replace("T", " ")[:16] + " UTC" if value else "-"


def _server_events(acc: dict[str, Any]) -> str:
    """The account's server events; marked when they are counted from Meta's
    responses because the requests are not in the input."""
    return f"{acc['server_events']} (responses)" if acc.get("server_events_from") == "responses" else str(acc["server_events"])


def _shop_names(accounts: list[dict[str, Any]]) -> dict[str, str]:
    """Short shop names of the accounts that have a shop (others are their pixel id alone)."""
    names = account_names(accounts)
    return {a["account"]: names[a["account"]] for a in accounts if a.get("shops")}


def _who(account: str | None, shops: dict[str, str], code: str = "") -> str:
    """A finding's account: ``hyggehjem (2049381726354810)``, the id alone without a shop, ``all`` for none."""
    if not account:
        return "all"
    return f"{shops[account]} ({code}{account}{code})" if account in shops else f"{code}{account}{code}"


def _span(first: str | None, last: str | None) -> str:
    """``A -> B`` (UTC), or plainly that the lines carry no time."""
    return f"{_ts(first)} -> {_ts(last)}" if first or last else NO_TIMESTAMP


def _when(f: dict[str, Any]) -> str:
    span = _span(f["first_seen"], f["last_seen"])
    if f.get("ongoing") is True:
        span += " (still going on at the end of the evidence)"
    elif f.get("ongoing") is False:
        span += " (stopped)"
    return span


def render_table(report: dict[str, Any], width: int | None = None, color: bool = True) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width or 120, force_terminal=color, color_system="standard" if color else None, highlight=False)
    inp = report["inputs"]
    win = report["window"]
    console.print(Text(f"capi-audit {report['tool']['version']} - ruleset {report['ruleset']['name']} {report['ruleset']['version']}", style="bold"))
    console.print(f"{inp['files']} files, {inp['records']} records ({', '.join(f'{k}: {v}' for k, v in inp['by_source'].items()) or 'none'}), "
                  f"{inp['skipped_lines']} skipped lines; evidence {_span(win['start'], win['end'])}")

    q = Table(title="Troubleshooting questions", show_lines=False, expand=True)
    q.add_column("#", width=2)
    q.add_column("Question", ratio=2)
    q.add_column("Verdict", width=9)
    q.add_column("Detail", ratio=4)
    for item in report["questions"]:
        label, style = VERDICT_STYLE[item["verdict"]]
        q.add_row(str(item["step"]), item["question"], Text(label, style=style), item["detail"])
    console.print(q)

    if report["accounts"]:
        a = Table(title="Accounts", expand=True)
        for col in ("Account", "Orders", "Server events", "Purchases", "Ratio", "Accepted", "Errors", "Est. EMQ", "Versions"):
            a.add_column(col)
        shops = _shop_names(report["accounts"])
        for acc in report["accounts"]:
            who = Text.assemble((shops[acc["account"]] + "\n", "bold"), acc["account"]) if acc["account"] in shops else acc["account"]
            a.add_row(who, str(acc["orders"]), _server_events(acc), str(acc["server_purchases"]),
                      "-" if acc["purchase_ratio"] is None else f"{acc['purchase_ratio']:.2f}",
                      str(acc["accepted_events"]), str(acc["error_lines"]),
                      "-" if acc["estimated_match_quality"] is None else f"{acc['estimated_match_quality']:.1f}",
                      ", ".join(acc["connector_versions"]) or "-")
        console.print(a)
        spark = daily_spark_lines(report["accounts"])
        if spark:
            console.print(Text("Per UTC day (first day, one mark per day, last day; · = none that day):", style="bold"))
            for line in spark:
                console.print(Text("  " + line), overflow="ignore", crop=False, no_wrap=True)

    if not report["findings"]:
        console.print(Text("No findings.", style="bold green"))
    shops = _shop_names(report["accounts"])
    for rule, items in _group(report["findings"]):
        blocks = []
        for f in items:
            head = Text.assemble((f" {f['severity'].upper()} ", SEVERITY_STYLE[f["severity"]]), f"  account {_who(f['account'], shops)}{' / ' + f['subject'] if f.get('subject') else ''}  ", (f"{f['count']} records", "bold"))
            body = [head, Text(f["summary"]), Text(_when(f), style="dim")]
            for e in f["evidence"]:
                body.append(Text(f"  {e['file']}:{e['line']}  {e['excerpt'][:150]}", style="dim"))
            blocks.append(Group(*body))
        first = items[0]
        blocks.append(Text.assemble(("Fix: ", "bold"), first["fix"].strip()))
        blocks.append(Text.assemble(("Validate: ", "bold"), first["validate"].strip()))
        console.print(Panel(Group(*blocks), title=f"[bold]{rule}[/bold]", title_align="left", border_style=SEVERITY_STYLE[first["severity"]].split()[-1]))

    for note in report.get("notes", []):
        console.print(Text(f"note: {note}", style="dim"))
    for p in report.get("plugin_problems", []):
        console.print(Text(f"plugin problem: {p['plugin']} in {p['where']}: {p['error']}", style="bold yellow"))
    if inp["errors_total"]:
        console.print(Text(f"{inp['errors_total']} input problems (first: {inp['errors'][0]['file']}:{inp['errors'][0]['line']} {inp['errors'][0]['reason']}); see --format json for the list", style="yellow"))
    return buf.getvalue()


def _group(findings: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    order: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        order.setdefault(f["rule"], []).append(f)
    return list(order.items())


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict[str, Any]) -> str:
    inp, win = report["inputs"], report["window"]
    lines = [
        "# CAPI audit",
        "",
        f"capi-audit {report['tool']['version']}, ruleset `{report['ruleset']['name']}` {report['ruleset']['version']}. "
        f"{inp['files']} files, {inp['records']} records, {inp['skipped_lines']} skipped lines. "
        "Evidence " + (f"from {win['start']} to {win['end']}." if win["start"] else NO_TIMESTAMP + "."),
        "",
        "## Troubleshooting questions",
        "",
        "| # | Question | Verdict | Detail |",
        "|---|---|---|---|",
    ]
    for q in report["questions"]:
        lines.append(f"| {q['step']} | {q['question']} | **{q['verdict']}** | {_md_escape(q['detail'])} |")
    if report["accounts"]:
        lines += ["", "## Accounts", "", "| Account | Orders | Server events | Purchases | Ratio | Accepted | Errors | Est. EMQ |", "|---|---|---|---|---|---|---|---|"]
        shops = _shop_names(report["accounts"])
        for a in report["accounts"]:
            who = f"{shops[a['account']]} ({a['account']})" if a["account"] in shops else a["account"]
            ratio = "-" if a["purchase_ratio"] is None else f"{a['purchase_ratio']:.2f}"
            emq = "-" if a["estimated_match_quality"] is None else f"{a['estimated_match_quality']:.1f}"
            lines.append(f"| {_md_escape(who)} | {a['orders']} | {_server_events(a)} | {a['server_purchases']} | {ratio} | {a['accepted_events']} | {a['error_lines']} | {emq} |")
    lines += ["", "## Findings", ""]
    shops = _shop_names(report["accounts"])
    if not report["findings"]:
        lines.append("No findings.")
    for rule, items in _group(report["findings"]):
        lines += [f"### `{rule}`", ""]
        for f in items:
            subject = f" · {f['subject']}" if f.get("subject") else ""
            lines.append(f"- **{f['severity']}** · account {_md_escape(_who(f['account'], shops, '`'))}{subject} · {f['count']} records · {_when(f)}")
            lines.append(f"  {_md_escape(f['summary'])}")
            for e in f["evidence"]:
                lines.append(f"  - `{e['file']}:{e['line']}` {_md_escape(e['excerpt'][:200])}")
        lines += ["", f"**Fix:** {_md_escape(items[0]['fix'].strip())}", "", f"**Validate:** {_md_escape(items[0]['validate'].strip())}", ""]
    if report.get("notes"):
        lines += ["## Notes", ""] + [f"- {_md_escape(n)}" for n in report["notes"]] + [""]
    if inp["errors_total"]:
        lines += ["## Input problems", "", f"{inp['errors_total']} lines or files were skipped. First ones:", ""]
        lines += [f"- `{e['file']}:{e['line']}` {_md_escape(e['reason'])}" for e in inp["errors"][:10]]
    return "\n".join(lines).rstrip() + "\n"
