"""The README's walkthrough, run as written: on a fresh data folder, ``archive migrate``
and ``archive serve`` (what the first command ends in), then every ``sh`` block of the
walkthrough in order, in bash, each answer compared with the output the README shows.

Ids are captured, not pasted: an id the README shows in an answer stands for the one the
service gave, in the commands after it too. Values marked ``…`` are compared by their
parts; dates and 档号 (they hold today's date and a sequence) are not compared.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories import free_port, wait_until

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent
ID_KEYS = {"id", "record_id", "job_id", "dossier_id", "inbox_id"}
VOLATILE = {"created_at", "archive_number", "retain_until"}
PAIR = re.compile(r'"(\w+)":("(?:[^"\\]|\\.)*"|-?[\d.]+|null|true|false)')

pytestmark = pytest.mark.ocr


def walkthrough() -> list[tuple[str, str | None]]:
    """The walkthrough's ``sh`` blocks, each with the output block after it (or None)."""
    text = README.read_text()
    section = text[text.index("## Walkthrough"):]
    section = section[:section.index("\n## ", 3)]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    steps = []
    for index, (lang, body) in enumerate(blocks):
        if lang != "sh":
            continue
        after = blocks[index + 1] if index + 1 < len(blocks) else None
        steps.append((body, after[1] if after and after[0] != "sh" else None))
    return steps



class Shell:
    """Runs blocks in bash, keeping the variables they assign for the blocks after."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env
        self.state = cwd / ".walkthrough-vars"
        self.state.write_text("")

    def run(self, block: str) -> str:
        names = re.findall(r"^([A-Z_]+)=", block, re.M)
        script = f"set -e\nsource {self.state}\n{block}\n"
        if names:
            script += f"declare -p {' '.join(names)} >> {self.state}\n"
        done = subprocess.run(["bash", "-c", script], cwd=self.cwd, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=600)  # what the terminal shows: both streams
        assert done.returncode == 0, f"{block}\n{done.stdout}"
        return done.stdout


def _same_pairs(expected: str, actual: str, ids: dict[str, str]) -> None:
    """Every ``"key":value`` the README shows is in the answer (ids mapped, … parts)."""
    found = dict(PAIR.findall(actual))
    for key, value in PAIR.findall(expected):
        if key in VOLATILE:
            continue
        assert key in found, f"{key} missing from {actual[:500]}"
        if key in ID_KEYS and value != "null":
            ids.setdefault(json.loads(value), json.loads(found[key]))
            assert json.loads(found[key]) == ids[json.loads(value)]
        elif "…" in value:
            for part in json.loads(value).split("…"):
                assert part.strip() in json.loads(found[key]), (key, part, found[key])
        else:
            assert found[key] == value, (key, value, found[key])


BOX = re.compile(r"[\u2500-\u257f]")  # a table's borders; its cells are compared


def _same_lines(expected: str, actual: str) -> None:
    """Every line the README shows (but a progress bar's) is in the output."""
    flat = " ".join(BOX.sub(" ", actual).split())
    for line in expected.splitlines():
        if "━━━━━━━━━━" in line and "/" in line:  # a progress bar: its time varies
            line = line[:line.index("━")]
        line = " ".join(BOX.sub(" ", line).split())
        if line:
            assert line in flat, f"{line!r} not in the output:\n{actual}"


def test_the_readme_walkthrough_runs_as_written(tmp_path) -> None:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "COLUMNS": "120",
           "ARCHIVE_DATA_DIR": "var"}
    env.pop("ARCHIVE_DATABASE_URL", None)
    port = free_port()
    assert subprocess.run(["archive", "migrate"], cwd=tmp_path, env=env,
                          capture_output=True).returncode == 0
    server = subprocess.Popen(["archive", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        shell = Shell(tmp_path, env)
        wait_until(lambda: subprocess.run(
            ["curl", "-sf", f"http://127.0.0.1:{port}/api/v1/readyz"],
            capture_output=True).returncode == 0, 60, "the service to start")
        ids: dict[str, str] = {}
        steps = walkthrough()
        assert len(steps) >= 6, "the walkthrough lost its steps"
        for block, expected in steps:
            block = block.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")
            block = block.replace(".venv/bin/archive", "archive")
            for shown, given in ids.items():
                block = block.replace(shown, given)
            output = shell.run(block)
            if "/jobs/" in block:  # OCR runs in the background: ask until it is done
                deadline = time.monotonic() + 300
                while '"status":"done"' not in output and '"status":"failed"' not in output:
                    assert time.monotonic() < deadline, output
                    time.sleep(1)
                    output = shell.run(block)
            if expected is None:
                continue
            if expected.lstrip().startswith("{"):
                _same_pairs(expected, output, ids)
            else:
                _same_lines(expected, output)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
