"""The benchmarks' server in a child process, so that its CPU time is not the benchmark's.

A server started in this process would share the GIL and ``time.process_time`` with the client
being measured. :class:`ServerProcess` starts one in a child Python (``python -m
benchmarks.server_process``): by default the lean :class:`~.loopback_server.LoopbackServer`,
independent of the toolkit, answering with the demo enterprise's numbers (``--server demo``
runs the project's own :class:`~metrics_toolkit.demo.DemoServer` instead). It talks to the child
over its standard input and output: one line per command.

Protocol: the child prints ``url <base url>`` once it listens; then, for each line ``count`` it
reads, it prints ``count <requests received so far>``; at end of input it stops.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from metrics_toolkit.demo import DemoAPI, DemoServer, generate_enterprise

from .loopback_server import LoopbackServer

__all__ = ["ServerProcess", "main"]

#: The servers the child can run, the default first.
SERVERS = ("loopback", "demo")
#: Seconds to wait for the child to exit once its input is closed.
STOP_TIMEOUT = 60.0
#: The directory holding the ``benchmarks`` package.
REPOSITORY = Path(__file__).resolve().parent.parent


class ServerProcess:
    """A :class:`~metrics_toolkit.demo.DemoServer` in a child process.

    It has the two attributes the benchmarks use of a ``DemoServer``: ``url`` and
    ``request_count``.

    Parameters
    ----------
    end : datetime.datetime
        Tz-aware end of the generated enterprise, and the simulator's "now".
    seed : int
        Seed of the synthetic enterprise.
    latency : float
        Seconds the server waits before answering each request.
    users : int, optional
        People of the enterprise (``generate_enterprise(users=...)``); default its usual 150.
    keep_answers : bool, default True
        The loopback server computes each distinct request once and keeps the answer; False:
        it computes every answer (see :class:`~.loopback_server.LoopbackServer`).
    """

    def __init__(
        self,
        *,
        end: dt.datetime,
        seed: int,
        latency: float = 0.0,
        users: int | None = None,
        keep_answers: bool = True,
    ) -> None:
        self.end = end
        self.seed = seed
        self.latency = latency
        self.users = users
        self.keep_answers = keep_answers
        self.url = ""
        self._child: subprocess.Popen[str] | None = None

    def start(self) -> ServerProcess:
        """Start the child and wait until it listens."""
        command = [
            sys.executable,
            "-m",
            "benchmarks.server_process",
            "--end",
            self.end.isoformat(),
            "--seed",
            str(self.seed),
            "--latency",
            repr(self.latency),
        ]
        if self.users is not None:
            command += ["--users", str(self.users)]
        if not self.keep_answers:
            command.append("--fresh-answers")
        self._child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            cwd=REPOSITORY,  # where ``-m benchmarks.server_process`` is found
        )
        try:
            self.url = self._read("url")
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def request_count(self) -> int:
        """Requests the server has received so far."""
        child = self._running()
        assert child.stdin is not None
        child.stdin.write("count\n")
        child.stdin.flush()
        return int(self._read("count"))

    def stop(self) -> None:
        """Close the child's input (it stops serving) and wait for it to exit."""
        child, self._child = self._child, None
        if child is None:
            return
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _running(self) -> subprocess.Popen[str]:
        if self._child is None:
            raise RuntimeError("the server process is not running")
        return self._child

    def _read(self, word: str) -> str:
        child = self._running()
        assert child.stdout is not None
        line = child.stdout.readline()
        head, _, value = line.strip().partition(" ")
        if head != word:
            raise RuntimeError(f"the server process answered {line!r}; expected {word!r}")
        return value


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the demo enterprise until standard input ends (the child side of the protocol)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server_process")
    parser.add_argument("--end", required=True, help="tz-aware ISO end of the enterprise")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--users", type=int, help="people of the enterprise (default 150)")
    parser.add_argument(
        "--fresh-answers",
        action="store_true",
        help="loopback: compute every answer (default: each distinct request once, kept)",
    )
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default=SERVERS[0],
        help="loopback: the lean asyncio server (default); demo: the project's DemoServer",
    )
    args = parser.parse_args(argv)
    end = dt.datetime.fromisoformat(args.end)
    api = DemoAPI(generate_enterprise(seed=args.seed, end=end, users=args.users))
    server: LoopbackServer | DemoServer
    if args.server == "loopback":
        server = LoopbackServer(api, latency=args.latency, keep_answers=not args.fresh_answers)
    else:
        server = DemoServer(api, latency=args.latency)
    with server:
        print(f"url {server.url}", flush=True)
        for line in sys.stdin:
            if line.strip() == "count":
                print(f"count {server.request_count}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
