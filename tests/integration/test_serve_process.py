"""``archive serve`` with worker processes: a SIGKILLed server leaves no worker behind, and
the next start runs as many as configured, no more."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.factories import free_port, wait_until

ARCHIVE = str(Path(sys.executable).with_name("archive"))


def _children(pid: int) -> set[int]:
    """The living processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _workers(pid: int) -> set[int]:
    return {child for child in _children(pid)
            if b"archive.services.jobs" in Path(f"/proc/{child}/cmdline").read_bytes()
            or b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()}



def _serve(env: dict[str, str], port: int) -> subprocess.Popen:
    return subprocess.Popen([ARCHIVE, "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)



def test_a_killed_server_leaves_no_worker_and_a_restart_runs_as_many(tmp_path) -> None:
    env = {**os.environ, "ARCHIVE_DATA_DIR": str(tmp_path / "var"),
           "ARCHIVE_WORKER_PROCESSES": "2", "ARCHIVE_WORKER_POLL_SECONDS": "0.2"}
    assert subprocess.run([ARCHIVE, "migrate"], env=env, capture_output=True).returncode == 0
    server = _serve(env, free_port())
    try:
        workers = wait_until(lambda: (w := _workers(server.pid)) and len(w) == 2 and w, 60,
                        "two workers")
        everything = _children(server.pid)
        server.send_signal(signal.SIGKILL)
        server.wait()
        wait_until(lambda: not any(_alive(pid) for pid in everything), 15,
              "the server's processes to end")
    finally:
        server.kill()
    restarted = _serve(env, free_port())
    try:
        wait_until(lambda: len(_workers(restarted.pid)) == 2, 60, "two workers again")
        time.sleep(3)  # none comes back, none is added
        assert len(_workers(restarted.pid)) == 2
        assert not any(_alive(pid) for pid in workers)
    finally:
        restarted.terminate()
        restarted.wait(30)
    wait_until(lambda: not _children(restarted.pid), 30, "a stopped server's workers to end")
