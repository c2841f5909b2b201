"""The leaderboard in a real browser: ``fdrbench leaderboard`` serves, headless Chromium renders.

Skipped where Chromium is not installed (``apt-get install chromium``; ``.ci/run`` installs it,
so CI always runs it). Screenshots of the overview and the explorer are saved under
``build/screenshots/``.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

from .conftest import REPO
from .helpers.leaderboard_results import HOSTILE, leaderboard_results  # noqa: F401 - a fixture
from .helpers.robustness_results import robustness_sweep  # noqa: F401 - a fixture

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = REPO / "build" / "screenshots"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium); CI installs it"),
]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=15000",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(root: Path, tmp_path: Path, args=None):
    """``fdrbench leaderboard`` over ``root`` on a free port (``args(port)``: other arguments after
    ``fdrbench``); the process becomes Streamlit's, stopped by its pid."""
    port = free_port()
    argv = args(port) if args else ["leaderboard", "--results", str(root), "--port", str(port)]
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "fdrbench", *argv],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env=os.environ.copy(),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def server(leaderboard_results, tmp_path):  # noqa: F811
    root, runs = leaderboard_results
    with serving(root, tmp_path) as url:
        yield url, runs


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=timeout, check=False
        )


def visible_text(dom: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def wait_for(url: str, needles: list[str], timeout: float = 180) -> tuple[str, str]:
    """Dump the rendered DOM until every needle is in its text; returns (dom, text)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        dom = chromium("--dump-dom", url).stdout
        text = visible_text(dom)
        if all(n in text for n in needles):
            return dom, text
        time.sleep(1)
    missing = [n for n in needles if n not in text]
    raise AssertionError(f"{url} never showed {missing}; last text: {text[-1500:]}")


def screenshot(url: str, name: str, attempts: int = 6) -> Path:
    """A 1400x2000 screenshot, retried while the page is still blank (a render caught too early)."""
    from PIL import Image

    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    for _ in range(attempts):
        chromium(f"--screenshot={path}", "--window-size=1400,2000", "--virtual-time-budget=20000", url)
        if path.is_file() and (np.asarray(Image.open(path).convert("L")) < 128).mean() > 0.003:
            return path
    raise AssertionError(f"{url}: every screenshot came out blank")


def test_overview_and_explorer_render_in_a_real_browser(server):
    url, runs = server
    _, text = wait_for(f"{url}/?page=overview", ["Leaderboard overview", "spectral", "hashdet", "textonly", "Rank = 1 +"])
    assert "Not ranked with the table above" in text
    assert "5 runs on 1 benchmarks" in text
    overview = screenshot(f"{url}/?page=overview", "overview")

    hashdet = runs["hashdet"].relative_to(runs["hashdet"].parents[2]).as_posix()
    explorer_url = f"{url}/?page=explorer&run={quote(hashdet)}"
    dom, text = wait_for(
        explorer_url,
        ["Per-sample explorer", "Model explanation", "Reference explanation", "sample: diffusion/0_real/diffusion_real_0000.png"],
    )
    assert "<script>alert(1)</script>" in text  # shown as text ...
    assert "<script>alert(1)</script>" not in dom  # ... never as markup
    assert "example.invalid" not in " ".join(re.findall(r"<img[^>]*>", dom))
    assert "240 of 240 samples match." in text
    explorer = screenshot(explorer_url, "explorer")
    assert overview.stat().st_size > 0 and explorer.stat().st_size > 0


#: hosts Chromium itself calls (updates, clock, accounts), whatever page is open; blocked like every other
BROWSER_SERVICES = re.compile(r"^https?://[^/]*\.(google\.com|googleapis\.com|gvt1\.com)(/|$)")


def test_exported_site_renders_from_disk_with_the_network_off(leaderboard_results, tmp_path):  # noqa: F811
    from fdrbench.leaderboard.export import export_site, slug

    root, _ = leaderboard_results
    out = tmp_path / "site"
    export_site(root, out)
    netlog = tmp_path / "netlog.json"
    blocked = ("--host-resolver-rules=MAP * ~NOTFOUND", f"--log-net-log={netlog}")
    started = time.monotonic()
    dom = chromium(*blocked, "--dump-dom", (out / "index.html").as_uri()).stdout
    text = visible_text(dom)
    assert "Leaderboard overview" in text and "spectral" in text and "hashdet" in text and "Rank = 1 +" in text
    assert time.monotonic() - started < 60
    requested = set(re.findall(r'"url":"([^"]+)"', netlog.read_text()))
    assert not [u for u in requested if not u.startswith("file:") and not BROWSER_SERVICES.match(u)], requested
    dom = chromium(*blocked, "--dump-dom", (out / "generators.html").as_uri()).stdout
    assert "<svg" in dom and "<rect" in dom and "n = 80" in dom
    bench = chromium("--host-resolver-rules=MAP * ~NOTFOUND", "--dump-dom", (out / "bench" / f"{slug('demo')}.html").as_uri()).stdout
    assert "Per generator: accuracy" in visible_text(bench)
    SHOTS.mkdir(parents=True, exist_ok=True)
    chromium(
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--screenshot={SHOTS / 'static-generators.png'}",
        "--window-size=1300,1100",
        (out / "generators.html").as_uri(),
    )
    assert (SHOTS / "static-generators.png").stat().st_size > 0


def test_the_robustness_page_renders_in_a_real_browser(robustness_sweep, tmp_path):  # noqa: F811
    from fdrbench.results import find_robustness

    root = tmp_path / "results"
    shutil.copytree(robustness_sweep[0], root)
    path = find_robustness(root)[0]
    data = json.loads(path.read_text())
    data["description"] = HOSTILE  # text a stranger's file holds
    path.write_text(json.dumps(data))
    broken = root / "demo" / "broken" / "robustness" / "x.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("not json")
    with serving(root, tmp_path) as url:
        page = f"{url}/?page=robustness"
        dom, text = wait_for(
            page, ["Robustness to perturbations", "Change from the clean images", "Stability of verdicts and explanations", "jpeg25"]
        )
        assert "<script>alert(1)</script>" in text and "<script>alert(1)</script>" not in dom
        assert "A robustness file is invalid and left out:" in text and "demo/broken/robustness/x.json:" in text
        assert "clean jpeg90 jpeg75 jpeg50 jpeg25" in text  # the plot's condition axis, drawn as SVG text
        assert screenshot(page, "robustness").stat().st_size > 0


def test_the_exported_robustness_page_renders_from_disk(robustness_sweep, tmp_path):  # noqa: F811
    from fdrbench.leaderboard.export import export_site

    out = tmp_path / "site"
    export_site(robustness_sweep[0], out)
    dom = chromium("--host-resolver-rules=MAP * ~NOTFOUND", "--dump-dom", (out / "robustness.html").as_uri()).stdout
    text = visible_text(dom)
    assert "Robustness to perturbations" in text and "Stability of verdicts and explanations" in text and "jpeg:q=25" in text
    assert "<polyline" in dom and dom.count("<circle") >= 5
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "static-robustness.png"
    chromium("--host-resolver-rules=MAP * ~NOTFOUND", f"--screenshot={shot}", "--window-size=1300,1400", (out / "robustness.html").as_uri())
    assert shot.stat().st_size > 0
