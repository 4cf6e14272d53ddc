"""Logins under a flood of wrong passwords, over real HTTP.

Runs ``archive serve`` (embedded defaults, production argon2 parameters) in a process of
its own, then, in one run, the same measurement in three phases: no flood; a stranger
flooding the owner's account from one address; a distributed flood (a new address and a
new name for every attempt, so none is throttled and every one costs a password check).
In each phase two clients sign in as their owners, again and again, and two ask
``GET /auth/me``. Client addresses come through ``X-Forwarded-For`` from the loopback
proxy the server trusts. Prints logins per second, login and ``/auth/me`` latency
(median, p95) and the flood's answered attempts per second; then checks that the stranger
never kept the owner out.

    python -m benchmarks.login_flood [--seconds 10] [--flooders 8]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from tests.factories import PASSWORD, bootstrap, free_port, make_settings

ARCHIVE = str(Path(sys.executable).with_name("archive"))


class Client:
    def __init__(self, port: int, address: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.address = address

    def login(self, username: str, password: str) -> tuple[int, dict]:
        body = urllib.parse.urlencode({"username": username, "password": password})
        self.connection.request("POST", "/api/v1/auth/token", body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": self.address})
        answer = self.connection.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")

    def me(self, token: str) -> int:
        self.connection.request("GET", "/api/v1/auth/me", headers={
            "Authorization": f"Bearer {token}", "X-Forwarded-For": self.address})
        answer = self.connection.getresponse()
        answer.read()
        return answer.status


def _until(stop: threading.Event, work, into: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        work()
        into.append(time.perf_counter() - started)


def phase(port: int, seconds: float, flood: str, flooders: int) -> dict[str, float]:
    stop = threading.Event()
    logins: list[float] = []
    mes: list[float] = []
    floods: list[float] = []
    counter = itertools.count()
    token = Client(port, "10.1.0.9").login("clerk_gs", PASSWORD)[1]["access_token"]

    def owner(n: int):
        client = Client(port, f"10.1.0.{n}")
        user = ("clerk", "archivist")[n]
        return lambda: client.login(user, PASSWORD)

    def asker(n: int):
        client = Client(port, f"10.2.0.{n}")
        return lambda: client.me(token)

    def flooder(n: int):
        client = Client(port, f"10.9.{n}.1")

        def attempt() -> None:
            i = next(counter)
            if flood == "stranger":  # one address, the owner's account
                client.login("clerk", f"guess-{i}")
            else:  # a fresh address and name each time: nothing to throttle
                client.address = f"10.{100 + i // 65536 % 100}.{i // 256 % 256}.{i % 256}"
                client.login(f"nobody{i}", f"guess-{i}")
        return attempt

    threads = [threading.Thread(target=_until, args=(stop, owner(n), logins)) for n in (0, 1)]
    threads += [threading.Thread(target=_until, args=(stop, asker(n), mes)) for n in (0, 1)]
    if flood != "none":
        threads += [threading.Thread(target=_until, args=(stop, flooder(n), floods))
                    for n in range(flooders)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()

    def q(values: list[float], n: int) -> float:
        return statistics.quantiles(values, n=20)[n] * 1000 if len(values) > 1 else float("nan")

    return {"logins/s": len(logins) / seconds, "login p50 ms": q(logins, 9),
            "login p95 ms": q(logins, 18), "/auth/me p50 ms": q(mes, 9),
            "/auth/me p95 ms": q(mes, 18), "flood/s": len(floods) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--flooders", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, make_settings("embedded", Path(tmp)) as settings:
        bootstrap(settings)
        port = free_port()
        env = {**os.environ, "ARCHIVE_DATA_DIR": str(settings.data_dir),
               "ARCHIVE_TRUSTED_PROXIES": '["127.0.0.1/32"]',
               "ARCHIVE_EMBEDDED_WORKER": "false"}
        server = subprocess.Popen([ARCHIVE, "serve", "--port", str(port)], env=env,  # noqa: S603
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_ready(port)
            print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; "
                  f"{args.seconds:.0f} s a phase, {args.flooders} flooding clients")
            results = {flood: phase(port, args.seconds, flood, args.flooders)
                       for flood in ("none", "stranger", "distributed")}
            columns = list(results["none"])
            print(f"{'flood':<12}" + "".join(f"{c:>17}" for c in columns))
            for flood, figures in results.items():
                print(f"{flood:<12}" + "".join(f"{figures[c]:>17.1f}" for c in columns))
            owner = Client(port, "10.1.0.77")
            status, _ = owner.login("clerk", PASSWORD)
            print(f"the owner from their own address after the stranger's flood: {status}")
        finally:
            server.terminate()
            server.wait(30)


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not start")


if __name__ == "__main__":
    main()
