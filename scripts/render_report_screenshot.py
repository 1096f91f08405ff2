#!/usr/bin/env python3
"""Regenerate docs/report.png: a screenshot of the HTML report for sample_logs/.

    python scripts/render_report_screenshot.py            # writes docs/report.png
    python scripts/render_report_screenshot.py --html-out /tmp/report.html --height 2600   # more than the first screen

Needs capi-auditor installed (``pip install -e .``) and a headless Chromium
(Debian: ``apt-get install chromium``; or pass ``--browser``).  The browser
runs offline: no network, no first-run tasks, a throw-away profile.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser(explicit: str | None = None) -> str | None:
    if explicit:
        return explicit
    if os.environ.get("CAPI_AUDIT_BROWSER"):
        return os.environ["CAPI_AUDIT_BROWSER"]
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_args(browser: str, profile: str) -> list[str]:
    """Flags for a headless, sandbox-less, strictly offline Chromium."""
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        '--host-resolver-rules=MAP * ~NOTFOUND',
        f"--user-data-dir={profile}",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", type=Path, default=ROOT / "docs" / "report.png")
    ap.add_argument("--samples", type=Path, default=ROOT / "sample_logs")
    ap.add_argument("--html-out", type=Path, help="also keep the rendered HTML here")
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=900)  # the first screen: what to do
    ap.add_argument("--browser", help="path of a Chromium/Chrome binary")
    args = ap.parse_args(argv)

    browser = find_browser(args.browser)
    if browser is None:
        print("no Chromium found (apt-get install chromium, or pass --browser)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="capi-report-") as tmp:
        html = args.html_out or Path(tmp) / "report.html"
        cmd = [sys.executable, "-m", "auditor", "audit", str(args.samples), "--format", "html",
               "--output", str(html), "--no-db", "--quiet"]
        res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if res.returncode not in (0, 1):  # 1 = findings at or above --fail-on: expected for the samples
            print(res.stderr, file=sys.stderr)
            return res.returncode
        args.output.parent.mkdir(parents=True, exist_ok=True)
        shot = Path(tmp) / "shot.png"
        cmd = chromium_args(browser, str(Path(tmp) / "profile")) + [
            f"--screenshot={shot}", f"--window-size={args.width},{args.height}", html.resolve().as_uri(),
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if res.returncode != 0 or not shot.exists():
            print(res.stderr[-2000:], file=sys.stderr)
            return 1
        shutil.copyfile(shot, args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
