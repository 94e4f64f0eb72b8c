"""The app's Refine as a designer meets it: evaluations a time-budgeted refine makes in the browser, against
the same handler driven in this process without one.

    python -m benchmarks.app_refine [--target PNG|SVG] [--seconds S] [--chromium PATH] [--json OUT.json]

Starts `python -m app` on a free loopback port with a fresh data directory, drives headless Chromium
(Debian's `chromium`, through Playwright) to upload the target and click Refine with an evaluation budget
too large to bind, and reads the finished status ("N evaluations in T s"). Then it runs the same upload
and refine through `app.ui.handlers` in this process, with the app stopped, so the two do not share the
cores. The ratio is what the page costs the search (the browser's drawing, the server's updates).

Why: gradio's pending overlay on the streamed outputs took most of a core in headless Chromium on the
2-core VM, and a 40-s refine of figma-00 made ~6000 evaluations in the browser against ~12000 without
it (app.ui.layout.STREAMED). This keeps that figure measured.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from app.ui.match import MAX_REFINE_EVALS
from benchmarks.api import free_port
from benchmarks.report import emit
from core.helptext import DefaultsHelpFormatter
from core.refine import DEFAULT_BUDGET_SECONDS
from core.refine.evaluate import default_workers

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TARGET = ROOT / "references" / "ring-tunnel.png"
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
NO_BINDING_EVALS = MAX_REFINE_EVALS
"""The evaluation budget the runs are given, the most the app takes (10⁷ was refused by the app once it
bounded budgets, and the benchmark waited for a "Done" that never came): the time budget ends them."""
_DONE = re.compile(r"(\d+) evaluations in ([\d.]+) s")


def _start_app(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    log = (home / "app.log").open("w")
    command = [
        sys.executable,
        "-m",
        "app",
        "--port",
        str(port),
        "--data-dir",
        str(home),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"the app did not start: {(home / 'app.log').read_text()[-2000:]}")
        time.sleep(0.3)


def _wait_text(page: Any, selector: str, text: str, seconds: float) -> str:
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)",
        arg=[selector, text],
        timeout=seconds * 1000,
    )
    return page.inner_text(selector)


def in_browser(target: Path, seconds: float, chromium: str) -> dict[str, Any]:
    """Upload and refine in the app through headless Chromium: the finished status's figures."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bb-app-bench-") as home:
        proc, url = _start_app(Path(home))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=BROWSER_ARGS, headless=True)
                page = browser.new_context(viewport={"width": 1400, "height": 1900}).new_page()
                page.goto(url)
                upload = "#target-upload input[type=file]"
                page.wait_for_selector(upload, state="attached", timeout=60_000)
                page.set_input_files(upload, str(target))
                _wait_text(page, "#match-report", "lum_corr", 120)
                page.fill("#refine-evals input", str(NO_BINDING_EVALS))
                page.fill("#refine-seconds input", f"{seconds:g}")
                page.click("#refine-btn")
                status = _wait_text(page, "#refine-status", "Done", seconds + 120)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return _figures(status)


def in_process(target: Path, seconds: float) -> dict[str, Any]:
    """The same upload and refine through app.ui.handlers, no server and no browser, after the app's own
    warm-up (which also starts the refine's worker pool, core.shared_pool), as the server has."""
    from app.ui import handlers
    from app.ui.server import warm_up

    with tempfile.TemporaryDirectory(prefix="bb-app-bench-") as home:
        warm_up(home)
        session = handlers.new_session(home)
        handlers.on_upload(session, str(target))
        *_, last = handlers.on_refine(session, NO_BINDING_EVALS, seconds)
    return _figures(last[2])


def _figures(status: str) -> dict[str, Any]:
    found = _DONE.search(status)
    if not found:
        raise SystemExit(f"no finished refine in the status: {status!r}")
    evaluations, elapsed = int(found.group(1)), float(found.group(2))
    return {"evaluations": evaluations, "seconds": elapsed, "eval_per_s": round(evaluations / elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.app_refine", description=__doc__, formatter_class=DefaultsHelpFormatter
    )
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET)
    parser.add_argument(
        "--seconds", type=float, default=DEFAULT_BUDGET_SECONDS, help="the refine's time budget"
    )
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"error: no Chromium at {args.chromium} (bash scripts/setup.sh installs it)", file=sys.stderr)
        return 2
    browser = in_browser(args.target, args.seconds, args.chromium)
    handler = in_process(args.target, args.seconds)
    emit(
        {
            "command": "python -m benchmarks.app_refine " + " ".join(argv or sys.argv[1:]),
            "target": str(args.target),
            "budget_seconds": args.seconds,
            "workers": default_workers(),  # what a fresh app session gets
            "machine": f"{os.uname().machine}, {os.cpu_count()} cores",
            "browser": browser,
            "handler_without_browser": handler,
            "browser_share": round(browser["evaluations"] / handler["evaluations"], 2),
        },
        args.json,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
