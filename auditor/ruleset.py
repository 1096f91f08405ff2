"""Rulesets: the diagnosis table as YAML (texts, severities, thresholds).

Resolution of ``--ruleset NAME|FILE``: an existing file is read; otherwise
``NAME`` is a built-in ruleset (``rulesets/NAME.yaml``).  A ruleset may say
``extends: default`` (or a path relative to itself) and then only override
``severity``, ``enabled``, ``thresholds`` or texts of existing rows, or add
complete new rows.  Rows shipped by plugins (hook ``capi_auditor_ruleset_files``)
are merged into the base before user overrides.  Every mistake is reported as
``file: rules.<id>.<key>: what is wrong``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .findings import SEVERITIES
from .suggest import did_you_mean

TEXT_KEYS = ("title", "problem", "cause", "verify", "fix", "validate", "evidence")
ROW_KEYS = (*TEXT_KEYS, "severity", "enabled", "thresholds", "questions")
#: Keys a new row may leave out.
OPTIONAL_KEYS = ("enabled", "thresholds", "questions")
#: The troubleshooting questions a row may answer (auditor.questions.QUESTIONS).
QUESTION_STEPS = (1, 2, 3, 4, 5)
TOP_KEYS = ("name", "version", "extends", "description", "rules")
BUILTIN_PACKAGE = "capi_auditor_rulesets"


class RulesetError(ValueError):
    """A ruleset file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Rule:
    """One rule of the ruleset: a row of the diagnosis table (id, severity,
    texts, thresholds, the questions it answers).  A finding names its rule."""

    id: str
    title: str
    severity: str
    enabled: bool
    problem: str
    cause: str
    verify: str
    fix: str
    validate: str
    evidence: str
    thresholds: dict[str, Any] = field(default_factory=dict)
    #: steps of the five questions a finding of this row answers with "problem"
    questions: tuple[int, ...] = ()
    origin: str = ""


@dataclass
class Ruleset:
    name: str
    version: str
    rules: dict[str, Rule]
    files: list[str] = field(default_factory=list)

    def rule(self, rule_id: str) -> Rule:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise RulesetError(f"ruleset {self.name!r} has no rule {rule_id!r}") from None

    def enabled(self, rule_id: str) -> bool:
        rule = self.rules.get(rule_id)
        return bool(rule and rule.enabled)


def builtin_names() -> list[str]:
    return sorted(
        p.name[:-5] for p in resources.files(BUILTIN_PACKAGE).iterdir() if p.name.endswith(".yaml")
    )


def _read_yaml(text: str, origin: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise RulesetError(f"{origin}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesetError(f"{origin}: top level must be a mapping")
    for key in data:
        if key not in TOP_KEYS:
            raise RulesetError(f"{origin}: {key}: unknown key (allowed: {', '.join(TOP_KEYS)})")
    rules = data.get("rules", {}) or {}
    if not isinstance(rules, dict):
        raise RulesetError(f"{origin}: rules: must be a mapping of row id to row")
    return data


def _load_source(spec: str, base_dir: Path | None = None) -> tuple[dict[str, Any], str, Path | None]:
    """Find a ruleset by file path or built-in name; return (data, origin, dir)."""
    candidate = Path(spec)
    if base_dir is not None and not candidate.is_absolute():
        rel = base_dir / candidate
        if rel.is_file():
            candidate = rel
    if candidate.is_file():
        try:
            text = candidate.read_text(encoding="utf-8")
        except OSError as exc:
            raise RulesetError(f"{candidate}: cannot read ({exc.strerror})") from None
        return _read_yaml(text, str(candidate)), str(candidate), candidate.parent
    if spec in builtin_names():
        text = resources.files(BUILTIN_PACKAGE).joinpath(f"{spec}.yaml").read_text(encoding="utf-8")
        return _read_yaml(text, f"rulesets/{spec}.yaml"), f"rulesets/{spec}.yaml", None
    raise RulesetError(f"{spec}: no such ruleset file or built-in ruleset{did_you_mean(spec, builtin_names())}"
                       f" (built-in: {', '.join(builtin_names())})")


def _check_row(rule_id: str, row: Any, origin: str, *, complete: bool, hint: str = "") -> dict[str, Any]:
    where = f"{origin}: rules.{rule_id}"
    if not isinstance(row, dict):
        raise RulesetError(f"{where}: must be a mapping")
    for key in row:
        if key not in ROW_KEYS:
            raise RulesetError(f"{where}.{key}: unknown key{did_you_mean(str(key), ROW_KEYS)} (allowed: {', '.join(ROW_KEYS)})")
    if complete:
        missing = [k for k in ROW_KEYS if k not in row and k not in OPTIONAL_KEYS]
        if missing:
            raise RulesetError(f"{where}: new row is missing {', '.join(missing)}{hint}")
    if "severity" in row and row["severity"] not in SEVERITIES:
        raise RulesetError(f"{where}.severity: {row['severity']!r} is not one of {', '.join(SEVERITIES)}")
    if "enabled" in row and not isinstance(row["enabled"], bool):
        raise RulesetError(f"{where}.enabled: must be true or false")
    for key in TEXT_KEYS:
        if key in row and not isinstance(row[key], str):
            raise RulesetError(f"{where}.{key}: must be text")
    if "questions" in row:
        qs = row["questions"]
        if not isinstance(qs, list) or not all(isinstance(q, int) and not isinstance(q, bool) and q in QUESTION_STEPS for q in qs):
            raise RulesetError(f"{where}.questions: must be a list of question steps ({', '.join(map(str, QUESTION_STEPS))})")
        row = {**row, "questions": tuple(qs)}
    if "thresholds" in row:
        th = row["thresholds"]
        if th is None:
            row = {**row, "thresholds": {}}
        elif not isinstance(th, dict):
            raise RulesetError(f"{where}.thresholds: must be a mapping")
    return row


def _merge_thresholds(base: dict[str, Any], over: dict[str, Any], where: str) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if key in base and base[key] is not None and value is not None:
            if isinstance(base[key], dict) != isinstance(value, dict):
                raise RulesetError(f"{where}.thresholds.{key}: must be {'a mapping' if isinstance(base[key], dict) else 'a value'} like the base")
            if isinstance(base[key], (int, float)) and not isinstance(value, (int, float)) or isinstance(value, bool) != isinstance(base[key], bool):
                raise RulesetError(f"{where}.thresholds.{key}: must be a number like the base ({base[key]!r}), got {value!r}")
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _apply(rows: dict[str, dict[str, Any]], data: dict[str, Any], origin: str, *, allow_override: bool) -> None:
    for rule_id, row in (data.get("rules") or {}).items():
        rule_id = str(rule_id)
        exists = rule_id in rows
        if exists and not allow_override:
            raise RulesetError(f"{origin}: rules.{rule_id}: row already defined by {rows[rule_id]['origin']}")
        # an incomplete new row is most likely a mistyped id: name the closest
        row = _check_row(rule_id, row, origin, complete=not exists, hint="" if exists else did_you_mean(rule_id, rows))
        if exists:
            merged = {**rows[rule_id], **{k: v for k, v in row.items() if k != "thresholds"}}
            if "thresholds" in row:
                merged["thresholds"] = _merge_thresholds(rows[rule_id]["thresholds"], row["thresholds"], f"{origin}: rules.{rule_id}")
            rows[rule_id] = merged
        else:
            rows[rule_id] = {"enabled": True, "thresholds": {}, "questions": (), **row, "origin": origin}


def load_ruleset(spec: str = "default", plugin_files: list[tuple[str, str]] | None = None) -> Ruleset:
    """Load ``spec`` (name or file), following ``extends`` chains and merging
    plugin-shipped rows into the base ruleset."""
    chain: list[tuple[dict[str, Any], str]] = []
    seen: set[str] = set()
    data, origin, base_dir = _load_source(spec)
    chain.append((data, origin))
    seen.add(origin)
    while data.get("extends"):
        data, origin, base_dir = _load_source(str(data["extends"]), base_dir)
        if origin in seen:
            raise RulesetError(f"{origin}: extends forms a cycle")
        seen.add(origin)
        chain.append((data, origin))
    chain.reverse()  # base first
    rows: dict[str, dict[str, Any]] = {}
    base, base_origin = chain[0]
    _apply(rows, base, base_origin, allow_override=False)
    for plugin, path in plugin_files or []:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RulesetError(f"{path} (plugin {plugin}): cannot read ({exc.strerror})") from None
        _apply(rows, _read_yaml(text, f"{path} (plugin {plugin})"), f"{path} (plugin {plugin})", allow_override=False)
    for data, origin in chain[1:]:
        _apply(rows, data, origin, allow_override=True)
    top = chain[-1][0]
    built = {
        rid: Rule(id=rid, **{k: v for k, v in row.items() if k in (*ROW_KEYS, "origin")})
        for rid, row in sorted(rows.items())
    }
    return Ruleset(
        name=str(top.get("name") or Path(spec).stem),
        version=str(top.get("version") or chain[0][0].get("version") or "0"),
        rules=built,
        files=[o for _, o in chain],
    )
