"""Connection-health diagnoses: can the server reach Meta and is it allowed to?

Rows: token-expired, permission-revoked, rate-limited, connectivity-failure,
payload-rejected and integration-broken-after-update, plus the payload rows a
Graph error names precisely (event-time-wrong, missing-value-currency,
pii-unhashed, action-source-invalid, emq-low): Meta rejected those sends for
that reason, so the finding carries that row's fix, not the generic
"correct the field named in the error".  Errors are classified by the Graph
error catalogue (:mod:`auditor.graph_errors`: code, subcode, then message
text, most specific first).  A connector that logs that its access token is
missing cannot send anything: token-expired, unless the lines start after a
version change, when integration-broken-after-update claims them.  Counts are
of *sends* (requests): a WooCommerce response and its ``Could not send Pixel
event`` line belong to the same request and count once.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from, hookimpl, plain
from auditor.findings import downgrade
from auditor.graph_errors import meaning_expr, row_expr, rows as catalogue_rows
from auditor.schema import ERROR_SIGNALS
from auditor.wording import fmt_time, span_text

#: Kinds of rows that answer a send (only they can say "accepted").
ANSWER_KINDS = ("api_response", "status")
#: Rows about the connection itself; the others a Graph error can name are payload rows.
CONNECTION_RULES = ("token-expired", "permission-revoked", "rate-limited", "connectivity-failure", "payload-rejected")
#: Payload rows a Graph error can name (from the catalogue), reported with the subject below.
PAYLOAD_RULES = tuple(r for r in catalogue_rows() if r not in CONNECTION_RULES)
REJECTED_SUBJECT = "rejected by Meta"
UPDATE_RULE = "integration-broken-after-update"

RULE_LABEL = {
    "token-expired": "Meta rejected the access token",
    "permission-revoked": "the token lacks permission for the pixel",
    "rate-limited": "Meta throttled the requests",
    "connectivity-failure": "the server could not get an answer from the Graph API",
    "payload-rejected": "Meta rejected the payload as invalid",
}


def classify(ctx: CheckContext) -> pl.DataFrame:
    """The error rows (:data:`_ROW_COLS`) with ``diag`` (diagnosis row or null),
    ``means`` (the catalogue's words for the error) and ``send_key``.

    A Graph code known to the catalogue decides; then a failure without an
    answer (transport error, HTML page, HTTP 5xx); then a missing token; then
    the message text alone (lines that kept no code)."""
    code, sig = pl.col("error_code"), pl.col("signal")
    cat = row_expr("error_code", "error_subcode", "message")
    diag = (
        pl.when(code.is_not_null() & cat.is_not_null()).then(cat)
        .when(sig.is_in(["transport_error", "server_error_page"])).then(pl.lit("connectivity-failure"))
        .when(pl.col("http_status") >= 500).then(pl.lit("connectivity-failure"))
        .when(sig == "token_missing").then(pl.lit("token-expired"))
        .otherwise(cat)
    )
    rows = ctx.select(*_ROW_COLS, where=sig.is_in(ERROR_SIGNALS) | (pl.col("http_status") >= 500))
    return plain(rows, "message", "signal", "file").with_columns(
        diag.alias("diag"), meaning_expr("error_code", "error_subcode", "message").alias("means"),
        _send_key().alias("send_key"),
    )


def _send_key() -> pl.Expr:
    """One value per request attempt: its batch_id, else the row's own file and line.

    A struct of the existing values, so no text is built per row."""
    alone = pl.col("batch_id").is_null()
    return pl.struct(
        pl.col("batch_id"), pl.when(alone).then(pl.col("file")).alias("file"), pl.when(alone).then(pl.col("line")).alias("line")
    )


# Columns the findings are built from; frames are narrowed to them *before*
# filtering, so a filter never copies the dozens of other columns.
_ROW_COLS = ("account", "kind", "signal", "logged_at", "file", "line", "message", "batch_id", "batch_size",
             "http_status", "error_code", "error_subcode", "events_received")


def _successes(ctx: CheckContext) -> pl.DataFrame:
    return ctx.select("account", "logged_at", where=pl.col("signal") == "success")


def _sends_per_account(ctx: CheckContext) -> dict[str | None, int]:
    """Request attempts (a request, or a response with no request) per account:
    the distinct batch ids, plus the rows without one (each its own attempt,
    counted once per file and line).  The same count as distinct
    :func:`_send_key` values, read in two narrow parts."""
    kinds = ["server_event", "api_response"]
    batched = (
        ctx.select("account", "batch_id", kinds=kinds, where=pl.col("batch_id").is_not_null())
        .group_by("account").agg(pl.col("batch_id").n_unique().alias("n"))
    )
    alone = (
        ctx.select("account", "file", "line", kinds=kinds, where=pl.col("batch_id").is_null())
        .group_by("account").agg(pl.struct("file", "line").n_unique().alias("n"))
    )
    both = pl.concat([batched, alone]).group_by("account").agg(pl.col("n").sum())
    return dict(plain(both, "account").iter_rows())


def _partial_batches(ctx: CheckContext) -> pl.DataFrame:
    """Success responses that say fewer events were received than sent."""
    sizes = (
        ctx.select("batch_id", kinds=["server_event"], where=pl.col("batch_id").is_not_null())
        .group_by("batch_id").agg(pl.len().alias("_sent"))
    )
    success = (pl.col("signal") == "success") & pl.col("events_received").is_not_null()
    # an answer without batch_size is judged against the events its request
    # logged: those batch ids are found on three narrow columns first, so the
    # row test below is a small is_in, not a lookup in every batch's size
    unsized = ctx.select("batch_id", "events_received", kinds=ANSWER_KINDS,
                         where=success & pl.col("batch_size").is_null() & pl.col("batch_id").is_not_null())
    short_ids = (
        unsized.join(sizes, on="batch_id", how="inner")  # a hash join: cheaper than a lookup per row
        .filter(pl.col("events_received") < pl.col("_sent")).get_column("batch_id").unique()
    )
    short = success & (
        (pl.col("events_received") < pl.col("batch_size"))
        | (pl.col("batch_size").is_null() & pl.col("batch_id").is_in(short_ids.implode()))
    )
    expected = pl.coalesce("batch_size", "_sent")
    resp = (
        ctx.select(*_ROW_COLS, kinds=ANSWER_KINDS, where=short)
        .join(sizes, on="batch_id", how="left", maintain_order="left")
        .filter(pl.col("events_received") < expected)
    )
    return resp.with_columns(
        pl.lit("payload-rejected").alias("diag"), _send_key().alias("send_key"),
        (expected - pl.col("events_received")).alias("_lost"),
    )


def _drop_echoes(errors: pl.DataFrame, within_s: int = 120) -> pl.DataFrame:
    """Drop connector status lines that echo a response already counted.

    Some connectors log their own line about an error next to the response
    (WooCommerce >= 3.7.1 writes 'Facebook connection invalid (error 190 ...)'
    just before its request/response): same account, same code, within two
    minutes means the same send.
    """
    status = errors.filter((pl.col("kind") == "status") & pl.col("error_code").is_not_null() & pl.col("logged_at").is_not_null())
    if status.is_empty():
        return errors
    responses = (
        errors.filter((pl.col("kind") == "api_response") & pl.col("logged_at").is_not_null())
        .select("account", "error_code", pl.col("logged_at").alias("_resp_at")).sort("_resp_at")
    )
    matched = (
        status.with_row_index("_i").sort("logged_at")
        .join_asof(responses, left_on="logged_at", right_on="_resp_at", by=["account", "error_code"],
                   strategy="nearest", tolerance=timedelta(seconds=within_s), check_sortedness=False)
        .filter(pl.col("_resp_at").is_not_null())
    )
    echo_keys = matched.select("file", "line")
    return errors.join(echo_keys, on=["file", "line"], how="anti", maintain_order="left")


def connection_findings(ctx: CheckContext) -> list[Finding]:
    errors = _drop_echoes(classify(ctx).filter(pl.col("diag").is_not_null()))
    claimed = _claimed_by_updates(ctx)
    if claimed.height:
        errors = errors.join(claimed, on=["file", "line"], how="anti", maintain_order="left")
    partial = _partial_batches(ctx)
    successes = _successes(ctx)
    sends = _sends_per_account(ctx)
    findings: list[Finding] = []
    # a rejection Meta named precisely is also a rejection: payload-rejected
    # counts it too (the events are lost), with the named row's fix
    named = errors.filter(pl.col("diag").is_in(PAYLOAD_RULES)).with_columns(
        pl.col("diag").alias("named"), pl.lit("payload-rejected").alias("diag"))
    groups = pl.concat([errors, named, partial.drop("_sent", "_lost")], how="diagonal_relaxed")
    lost_by_account = partial.group_by("account").agg(pl.col("_lost").sum())
    for (rule, account), rows in sorted(groups.group_by(["diag", "account"]), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        if not ctx.ruleset.enabled(rule):
            continue
        th = ctx.thresholds(rule if rule in CONNECTION_RULES else "payload-rejected")
        count = rows["send_key"].n_unique()
        if count < int(th.get("min_count", 1)):
            continue
        first, last = rows["logged_at"].min(), rows["logged_at"].max()
        acc_succ = successes.filter(pl.col("account").eq_missing(account))["logged_at"]
        after_last = int((acc_succ > last).sum()) if last is not None else 0
        ongoing = after_last == 0
        code_counts = _code_counts(rows)
        total_sends = sends.get(account, 0)
        share = count / total_sends if total_sends else None
        metrics: dict = {"sends_affected": count, "codes": code_counts, "total_sends": total_sends,
                         "share": round(share, 4) if share is not None else None,
                         "successes_after_last_error": after_last}
        if rule in PAYLOAD_RULES:
            findings.append(_rejected_finding(ctx, rule, account, rows, metrics, ongoing))
            continue
        severity = ctx.ruleset.rule(rule).severity
        if rule == "connectivity-failure" and share is not None and share < float(th.get("high_share", 0)):
            severity = downgrade(severity)
        before = acc_succ.filter(acc_succ < first) if first is not None else acc_succ.head(0)
        if rule in ("token-expired", "permission-revoked"):
            metrics["last_success_before"] = before.max().isoformat() if len(before) else None
            metrics["successes_after_first_error"] = int((acc_succ > first).sum()) if first is not None else 0
        missing = rows.filter(pl.col("signal") == "token_missing")["send_key"].n_unique() if rule == "token-expired" else 0
        if missing:
            metrics["token_missing_lines"] = missing
        lost = None
        fix = ctx.ruleset.rule(rule).fix
        if rule == "payload-rejected":
            lost_row = lost_by_account.filter(pl.col("account").eq_missing(account))
            lost = int(lost_row["_lost"][0]) if lost_row.height else 0
            metrics["events_dropped_in_accepted_batches"] = lost
            if "named" in rows.columns and rows["named"].is_not_null().any():
                metrics["named_rows"] = dict(rows.group_by("named").len().drop_nulls("named").sort("named").iter_rows())
                fix = _rejection_fix(ctx, rows)
        findings.append(ctx.finding(
            rule,
            severity=severity,
            fix=fix,
            account=account,
            count=count,
            first_seen=first,
            last_seen=last,
            ongoing=ongoing,
            summary=_summary(rule, count, code_counts, first, last, ongoing, share, lost, before, missing,
                             metrics.get("named_rows")),
            evidence=evidence_from(rows),
            metrics=metrics,
        ))
    return findings


def _code_counts(rows: pl.DataFrame) -> dict[str, int]:
    """``{"100/2804016": 3, "190": 1}``: how often each code/subcode was seen, most frequent first."""
    codes = (
        rows.filter(pl.col("error_code").is_not_null())
        .select(pl.format("{}/{}", "error_code", pl.col("error_subcode").fill_null(0).cast(pl.String)).str.strip_suffix("/0").alias("c"))
        .group_by("c").len().sort(["len", "c"], descending=[True, False])
    )
    return {c: int(n) for c, n in codes.iter_rows()}


def _rejection_fix(ctx: CheckContext, rows: pl.DataFrame) -> str:
    """payload-rejected's fix when Meta named the fault: each named row's own
    fix, then the generic one for the rejections it did not name."""
    parts = []
    for rule, means in rows.filter(pl.col("named").is_not_null()).group_by("named").agg(pl.col("means").drop_nulls().unique().sort()).sort("named").iter_rows():
        parts.append(f"For {', '.join(means) or rule} ({rule}): {ctx.ruleset.rule(rule).fix}")
    if rows["named"].is_null().any():
        parts.append(f"For the other rejections: {ctx.ruleset.rule('payload-rejected').fix}")
    return " ".join(parts)


def _rejected_finding(ctx: CheckContext, rule: str, account: str | None, rows: pl.DataFrame, metrics: dict,
                      ongoing: bool) -> Finding:
    """A payload row Meta named when it rejected the sends, with that row's fix
    (payload-rejected counts the same sends as lost events)."""
    means = sorted(set(rows["means"].drop_nulls().to_list()))
    count, share = metrics["sends_affected"], metrics["share"]
    codes = metrics["codes"]
    head = f"Meta rejected {count} send{'s' if count != 1 else ''}: {'; '.join(means) or 'see the evidence'}"
    if codes:
        head += " (codes " + ", ".join(f"{c} x{n}" for c, n in list(codes.items())[:4]) + ")"
    if share is not None:
        head += f", {share:.0%} of this account's sends" if share >= 0.01 else ", under 1% of this account's sends"
    first, last = rows["logged_at"].min(), rows["logged_at"].max()
    parts = [head, span_text(first, last),
             "still failing at the end of the evidence" if ongoing else "sends succeeded again afterwards"]
    return ctx.finding(
        rule, account=account, subject=REJECTED_SUBJECT, count=count,
        first_seen=first, last_seen=last, ongoing=ongoing, summary="; ".join(parts) + ".",
        evidence=evidence_from(rows), metrics={**metrics, "meaning": means},
    )


def _summary(rule, count, codes, first, last, ongoing, share, lost, before, missing=0, named=None) -> str:
    code_txt = ", ".join(f"{c} x{n}" for c, n in list(codes.items())[:4])
    graph = count - missing
    if missing and not graph:
        parts = [f"The connector has no access token: {missing} log line{'s' if missing != 1 else ''} say it cannot "
                 "create its Graph API connection because the access token is missing, so no server event can be sent"]
    else:
        parts = [f"{RULE_LABEL[rule][0].upper()}{RULE_LABEL[rule][1:]} on {graph} send{'s' if graph != 1 else ''}"]
        if code_txt:
            parts[0] += f" (codes {code_txt})"
        if missing:
            parts[0] += f" and {missing} log line{'s' if missing != 1 else ''} say the access token is missing"
    if share is not None and graph:
        parts[0] += f", {share:.0%} of this account's sends"
    parts.append(span_text(first, last))
    if named:
        parts.append(f"Meta named the fault of {sum(named.values())}: " + ", ".join(f"{r} x{n}" for r, n in named.items()))
    if lost:
        parts.append(f"{lost} events were dropped from accepted batches")
    if rule in ("token-expired", "permission-revoked") and len(before):
        parts.append(f"the last successful send before it was at {fmt_time(before.max())}")
    parts.append("still failing at the end of the evidence" if ongoing else "sends succeeded again afterwards")
    return "; ".join(parts) + "."


def update_findings(ctx: CheckContext) -> list[Finding]:
    """A version change followed by errors or by silence of server events."""
    return _updates(ctx)[0]


def _claimed_by_updates(ctx: CheckContext) -> pl.DataFrame:
    """``file``, ``line`` of the missing-token lines an update finding explains
    (empty when that row is off): the connection check leaves them to it."""
    if not ctx.ruleset.enabled(UPDATE_RULE):
        return pl.DataFrame(schema={"file": pl.String, "line": pl.Int64})
    return _updates(ctx)[1]


def _updates(ctx: CheckContext) -> tuple[list[Finding], pl.DataFrame]:
    """The update findings and the lines they claim, worked out once per audit."""
    return ctx.shared("connection_health.updates", lambda: _analyse_updates(ctx))


def _analyse_updates(ctx: CheckContext) -> tuple[list[Finding], pl.DataFrame]:
    th = ctx.thresholds("integration-broken-after-update")
    silence = timedelta(hours=float(th.get("silence_hours", 6)))
    error_window = timedelta(hours=float(th.get("error_window_hours", 72)))
    versions = (
        ctx.select("account", "logged_at", "connector_version", "file", "line", "message", where=(
            pl.col("connector_version").is_not_null() & pl.col("logged_at").is_not_null() & pl.col("account").is_not_null()
        ))
        .sort(["account", "logged_at", "file", "line"])
        .with_columns(pl.col("connector_version").shift(1).over("account").alias("prev_version"))
    )
    # the first appearance of each new version: interleaved logs of instances on two
    # versions (a rolling update) flip back and forth on every line, one update each
    changes = versions.filter(pl.col("prev_version").is_not_null() & (pl.col("connector_version") != pl.col("prev_version")))
    changes = changes.unique(["account", "connector_version"], keep="first", maintain_order=True)
    markers = ctx.select(*_ROW_COLS, "connector_version", where=pl.col("signal") == "plugin_updated").select("account", "logged_at", "file", "line", "message", pl.col("connector_version"), pl.lit(None, pl.String).alias("prev_version"))
    changes = pl.concat([changes, markers.select(changes.columns)], how="vertical_relaxed").sort(["account", "logged_at"])
    claimed = [pl.DataFrame(schema={"file": pl.String, "line": pl.Int64})]
    if changes.is_empty():
        return [], claimed[0]
    # a connector that lost its token after an update is broken by the update,
    # not by an expired token: count those lines as errors after the change
    errors = classify(ctx).with_columns(
        pl.when(pl.col("signal") == "token_missing").then(pl.lit("access token missing")).otherwise(pl.col("diag")).alias("diag")
    ).filter(pl.col("diag").is_not_null())
    # "a send went out": the request itself where the log has requests, else its success answer
    has_requests = ctx.select("account", kinds=["server_event"])["account"].unique().to_list()
    ok = ctx.select(*_ROW_COLS, where=(
        pl.when(pl.col("account").is_in(has_requests)).then(pl.col("kind") == "server_event").otherwise(pl.col("signal") == "success")
    )).select("account", "logged_at", _send_key().alias("send_key")).unique(["account", "send_key"], keep="first").select("account", "logged_at")
    findings = []
    times = ctx.select("account", "logged_at", where=pl.col("account").is_in(changes["account"].unique().to_list()))
    for (account,), acc_changes in changes.group_by(["account"], maintain_order=True):
        acc_rows = times.filter(pl.col("account") == account)
        acc_end = acc_rows["logged_at"].max()
        acc_ok = ok.filter(pl.col("account") == account)["logged_at"].sort()
        acc_err = errors.filter(pl.col("account") == account)
        for change in acc_changes.iter_rows(named=True):
            t = change["logged_at"]
            before_ok = acc_ok.filter(acc_ok < t)
            if len(before_ok) < 2:
                continue  # nothing healthy to compare with
            next_change = acc_changes.filter(pl.col("logged_at") > t)["logged_at"].min()
            horizon = min(x for x in (t + error_window, next_change, acc_end) if x is not None)
            errs = acc_err.filter((pl.col("logged_at") >= t) & (pl.col("logged_at") <= horizon))
            after_ok = acc_ok.filter(acc_ok >= t)
            # longest stretch without a server event that *starts* inside the window;
            # it ends at the next send (however late), the next version change or
            # the end of the evidence
            until = next_change if next_change is not None else acc_end
            stamps = pl.concat([pl.Series([t]), after_ok.filter(after_ok <= until), pl.Series([until])]).sort()
            gaps = pl.Series(
                [g if s <= horizon else timedelta(0) for s, g in zip(stamps.head(len(stamps) - 1), stamps.diff().slice(1))],
                dtype=pl.Duration("us"),
            )
            gap_idx = int(gaps.arg_max()) if len(gaps) else None
            gap = gaps[gap_idx] if gap_idx is not None else None
            prior_gaps = before_ok.diff().drop_nulls()
            typical = prior_gaps.quantile(0.95) if len(prior_gaps) else None
            silent = gap is not None and gap >= silence and (typical is None or gap > typical * 3)
            errors_started = errs.height > 0 and not acc_err.filter((pl.col("logged_at") < t) & (pl.col("logged_at") >= t - error_window)).height
            if not (silent or errors_started):
                continue
            prev = change["prev_version"]
            what = f"version {prev} -> {change['connector_version']}" if prev else f"update marker ({change['connector_version'] or 'version unknown'})"
            details = [f"Connector {what} at {fmt_time(t)}"]
            metrics = {"from_version": prev, "to_version": change["connector_version"], "changed_at": t.isoformat()}
            last_seen = t
            ongoing = False
            if silent:
                gap_start = stamps[gap_idx]
                gap_end = stamps[gap_idx + 1]
                lines_during = acc_rows.filter((pl.col("logged_at") > gap_start) & (pl.col("logged_at") < gap_end)).height
                ok_after = int((after_ok <= gap_start).sum())
                ends = "the end of the evidence" if gap_end == acc_end and not (acc_ok >= acc_end).any() else fmt_time(gap_end)
                details.append(f"{ok_after} send{'s' if ok_after != 1 else ''} went out after it, then no server event for {gap.total_seconds() / 3600:.1f} h (from {fmt_time(gap_start)} to {ends}) while the connector logged {lines_during} other line{'s' if lines_during != 1 else ''}")
                metrics.update(silence_hours=round(gap.total_seconds() / 3600, 1), silence_start=gap_start.isoformat(), silence_end=gap_end.isoformat(), sends_after_change=ok_after, other_lines_during_silence=lines_during)
                last_seen = gap_end
                ongoing = ends == "the end of the evidence"
            if errors_started:
                kinds = errs.group_by("diag").len().sort(["len", "diag"], descending=[True, False])
                details.append("errors began after it: " + ", ".join(f"{d} x{n}" for d, n in kinds.iter_rows()))
                metrics["errors_after_change"] = {d: int(n) for d, n in kinds.iter_rows()}
                missing = errs.filter(pl.col("signal") == "token_missing")
                if missing.height:
                    # the evidence for "broken by the update" rather than "token expired"
                    details.append(f"since {fmt_time(missing['logged_at'].min())} the connector has no access token "
                                   "(it says it cannot create its API connection), so the update lost or reset "
                                   "its connection settings rather than Meta rejecting a token")
                last_seen = max(last_seen, errs["logged_at"].max())
                ongoing = ongoing or not bool((acc_ok > errs["logged_at"].max()).any())
            evidence = evidence_from(pl.DataFrame([change]).select("file", "line", "message", "logged_at"), 1) + evidence_from(errs, 4)
            # every missing-token line from the change on is this update's doing
            # (until the next change), also those after the error window
            after = (pl.col("logged_at") >= t) & (pl.col("logged_at") < next_change) if next_change is not None else pl.col("logged_at") >= t
            claimed.append(acc_err.filter((pl.col("signal") == "token_missing") & after).select("file", pl.col("line").cast(pl.Int64)))
            findings.append(ctx.finding(
                "integration-broken-after-update",
                account=account,
                count=max(errs["send_key"].n_unique() if errs.height else 0, 1),
                first_seen=t,
                last_seen=last_seen,
                ongoing=ongoing,
                summary="; ".join(details) + ".",
                evidence=evidence,
                metrics=metrics,
            ))
    return findings, pl.concat(claimed).unique()


@hookimpl
def capi_auditor_register_checks(register):
    register(Check(
        name="connection-errors",
        rules=(*CONNECTION_RULES, *PAYLOAD_RULES),
        run=connection_findings,
        needs=("api_response", "status", "server_event"),
        description="Graph API errors, missing tokens and transport failures, classified by the Graph error "
                    "catalogue (code, subcode, message), per account.",
    ))
    register(Check(
        name="broken-after-update",
        rules=("integration-broken-after-update",),
        run=update_findings,
        needs=("server_event", "api_response", "status"),
        description="A connector version change followed by errors or by silence of server events.",
    ))
