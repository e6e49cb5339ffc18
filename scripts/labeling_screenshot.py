"""Regenerate docs/images/labeling-panel.png: the real panel, served by Voila, shot by Chromium.

    .venv/bin/python scripts/labeling_screenshot.py [--out docs/images/labeling-panel.png]

A development tool, not part of the product: needs the dev extras (nbformat, websockets),
voila, and Chromium (Debian: apt-get install chromium). The issue shown is an
example written for the picture, stored in a throw-away database: no real issue text.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import nbformat

from db import open_database, schema

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images" / "labeling-panel.png"
CHROMIUM = "/usr/bin/chromium"

EXAMPLE_BODY = """Memory grows by about 40 MB on every call of `predict` inside a loop,
until the process is killed after a few hours.

```python
model = build_model()
for batch in stream():
    model.predict(batch)   # host memory keeps increasing
```

| iteration | resident memory |
|---:|---:|
| 0 | 1.2 GB |
| 1000 | 5.1 GB |

It did not happen in the previous release."""
EXAMPLE_COMMENTS = [
    "Can you share the exact version and a minimal script?",
    "Version 2.4.1, script above; same on CPU and GPU.",
    "I see the same with a bigger model.",
    "Also reproduced with eager mode switched off.",
    "A fix for the cache of traced functions is in review.",
]


def _row(**values) -> dict:
    stamp = datetime(2026, 1, 5, 12, 0)
    return {
        "raw_json": "{}",
        "fetched_at": stamp,
        "created_at": stamp,
        "updated_at": stamp,
        **values,
    }


def example_database(path: Path) -> str:
    """A database holding one hand-written example issue with labels and comments."""
    url = f"sqlite:///{path}"
    engine = open_database(url, create=True)
    with engine.begin() as connection:
        connection.execute(
            schema.repositories.insert().values(
                id=1, full_name="example/mlframework", api_url="https://api.github.com"
            )
        )
        connection.execute(
            schema.issues.insert().values(
                **_row(id=1, repository_id=1, number=4242, state="open", is_pull_request=False),
                title="Memory keeps growing when predict is called in a loop",
                body=EXAMPLE_BODY,
                user_login="example-user",
                comments_count=len(EXAMPLE_COMMENTS),
            )
        )
        for label_id, name in enumerate(("type:bug", "comp:runtime", "regression"), start=1):
            connection.execute(
                schema.labels.insert().values(id=label_id, repository_id=1, name=name)
            )
            connection.execute(schema.issue_labels.insert().values(issue_id=1, label_id=label_id))
        for number, body in enumerate(EXAMPLE_COMMENTS, start=1):
            connection.execute(
                schema.comments.insert().values(
                    **_row(id=number, repository_id=1, issue_number=4242, body=body),
                    user_login=f"commenter{number}",
                )
            )
    return url


PANEL_NOTEBOOK = """from db import open_database
from classifier.labeling import LabelingSession
from classifier.labeling.widgets import LabelingPanel

panel = LabelingPanel(LabelingSession(open_database({url!r}), "alice", "keyword"))
panel.note.value = "grows per call; no upgrade named in the text"
panel.widget"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, seconds: float = 240) -> None:
    # Connect only: every GET of the page would start a kernel.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"voila did not start on port {port}")


def _devtools_page(port: int, seconds: float = 60) -> str:
    """The websocket URL of Chromium's first page target."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as reply:
                pages = [t for t in json.load(reply) if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError("chromium did not open its DevTools port")


class _DevTools:
    """Just enough of the Chrome DevTools protocol: call a method, wait for its answer."""

    def __init__(self, socket):
        self.socket = socket
        self.next_id = 0

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=120))
            if message.get("id") == self.next_id:
                return message.get("result", {})


def _capture(page_url: str, devtools_port: int, out: Path, seconds: float = 300) -> None:
    """Open the page, wait until the panel's issue is rendered (a live kernel: real time,
    not a fixed budget), then save a PNG."""
    from websockets.sync.client import connect

    with connect(_devtools_page(devtools_port), max_size=None, open_timeout=30) as socket:
        _render_and_save(_DevTools(socket), page_url, out, seconds)


def _render_and_save(tools: _DevTools, page_url: str, out: Path, seconds: float) -> None:
    tools.call("Page.navigate", url=page_url)
    ready = "!!document.querySelector('.mli-issue') && !!document.querySelector('.widget-button')"
    deadline = time.monotonic() + seconds
    while not tools.call("Runtime.evaluate", expression=ready)["result"].get("value"):
        if time.monotonic() > deadline:
            raise TimeoutError("the labeling panel did not render")
        time.sleep(1)
    time.sleep(2)  # fonts and layout settle
    shot = tools.call("Page.captureScreenshot", format="png")
    out.write_bytes(base64.b64decode(shot["data"]))


def _notebook(workdir: Path) -> None:
    cell = PANEL_NOTEBOOK.format(url=example_database(workdir / "example.db"))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, workdir / "panel.ipynb")


def shoot(out: Path, width: int = 1280, height: int = 1150) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        _notebook(work)
        port, devtools_port = _free_port(), _free_port()
        voila = subprocess.Popen(
            [sys.executable, "-m", "voila", "panel.ipynb", "--no-browser", f"--port={port}",
             "--Voila.ip=127.0.0.1", "--theme=light"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "JUPYTER_CONFIG_DIR": str(work / "config")},
        )  # fmt: skip
        chromium = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             "--disable-sync", "--hide-scrollbars", f"--window-size={width},{height}",
             f"--remote-debugging-port={devtools_port}", "--remote-allow-origins=*",
             f"--user-data-dir={work / 'chromium'}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_for(port)
            _capture(f"http://127.0.0.1:{port}/", devtools_port, out)
        finally:
            for process in (chromium, voila):
                process.terminate()
                process.wait(timeout=30)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    print(json.dumps({"screenshot": str(shoot(args.out))}))


if __name__ == "__main__":
    main()
