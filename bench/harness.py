"""`make bench`: load a fresh database in bulk, serve it on loopback, drive each endpoint with wrk.

Every run is bounded (at most 60 s of load per endpoint) and cleans up after itself: the
server is stopped and a PostgreSQL database created for the run is dropped, whatever happens.
Figures are only comparable within one run, as ratios to the same server's `/healthz`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import importlib
import json
import os
import platform
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import HEALTHZ, Target

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
HOST = "127.0.0.1"  # the only host this harness ever talks to
POSTGRES_SERVER = f"postgresql+asyncpg://postgres@{HOST}:5432/"
MAX_DURATION = 60
MAX_WARMUP = 10
WRK_TIMEOUT = "10s"  # a request slower than this counts as a socket timeout, not a latency
SERVER_START_TIMEOUT = 60.0
SERVER_SETTLE_TIMEOUT = 120.0  # at most this long for start-up jobs to finish before measuring
# Far above anything wrk can send in a window: the limiter still runs, but never answers 429.
UNLIMITED = str(10**9)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Options


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench", description="Benchmark GovStore endpoints against /healthz with wrk."
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--size",
        type=_bounded_int(1, 1_000_000),
        default=10_000,
        help="services (and releases) to load; accounts and organisations are size/10",
    )
    parser.add_argument(
        "--duration",
        type=_bounded_int(1, MAX_DURATION),
        default=10,
        help=f"seconds of load per endpoint (at most {MAX_DURATION})",
    )
    parser.add_argument(
        "--warmup",
        type=_bounded_int(0, MAX_WARMUP),
        default=1,
        help="unmeasured seconds of load before each endpoint's measurement",
    )
    parser.add_argument("--connections", type=_bounded_int(1, 1000), default=32)
    parser.add_argument("--threads", type=_bounded_int(1, 64), default=2)
    parser.add_argument("--scenario", default="foundation", help="a module in bench/scenarios/")
    return parser


# ---------------------------------------------------------------------------------------------
# CPU accounting (Linux /proc): is anything else on the machine competing with the run?

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_ticks() -> tuple[int, int] | None:
    """(busy, total) CPU ticks of the whole machine since boot, or None off Linux."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def process_ticks(pid: int) -> int:
    """User + system ticks of one process (all its threads), 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def postgres_ticks(database: str) -> int:
    """Ticks of the PostgreSQL backends serving `database` (they work for the run)."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        # "postgres: 15/main: postgres <database> 127.0.0.1(port) idle", or an autovacuum worker
        if (
            cmdline.startswith(b"postgres:")
            and database.encode() in cmdline.replace(b"\0", b" ").split()
        ):
            total += process_ticks(int(proc.name))
    return total


def children_ticks() -> float:
    """Ticks of this process's finished children (wrk), from getrusage."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * CLOCK_TICKS


def cpu_busy(seconds: float = 1.0) -> float | None:
    """The share of the machine's CPU in use over `seconds`, before the run adds any."""
    before = machine_ticks()
    time.sleep(seconds)
    after = machine_ticks()
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def wait_idle(pid: int, *, timeout: float = SERVER_SETTLE_TIMEOUT) -> float | None:
    """Wait for the server's start-up jobs (sweeps, recovery) to finish: until it uses under 5%
    of a core for a second. Returns the seconds waited, or None if it was still busy."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = process_ticks(pid)
        time.sleep(1.0)
        if (process_ticks(pid) - before) / CLOCK_TICKS < 0.05:
            return time.monotonic() - started
    return None


@dataclass
class CpuMeter:
    """Splits the machine's CPU use during a measurement into ours and everyone else's."""

    server_pid: int
    database: str | None  # a PostgreSQL database whose backends count as ours

    def sample(self) -> tuple[int, int, float] | None:
        machine = machine_ticks()
        if machine is None:
            return None
        own = process_ticks(self.server_pid) + children_ticks()
        if self.database:
            own += postgres_ticks(self.database)
        return machine[0], machine[1], own

    @staticmethod
    def shares(
        before: tuple[int, int, float] | None, after: tuple[int, int, float] | None
    ) -> tuple[float | None, float | None]:
        """(share used by other processes, share left idle) of the machine between samples."""
        if before is None or after is None or after[1] <= before[1]:
            return None, None
        total = after[1] - before[1]
        busy = after[0] - before[0]
        other = busy - (after[2] - before[2])
        return max(0.0, other / total), max(0.0, 1 - busy / total)


# ---------------------------------------------------------------------------------------------
# wrk


@dataclass
class Measurement:
    name: str
    method: str
    path: str
    probe_status: int
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: dict[str, int]
    other_cpu: float | None  # share of the machine's CPU used by processes not in the run
    idle_cpu: float | None  # share of the machine's CPU nobody used
    probe_problem: str | None = None  # what the target's check found wrong with the probe's answer
    # Targets with a list of bodies: how many of them the measurement sent, and how many of its
    # requests repeated a body because the list ran out.
    bodies_sent: int | None = None
    bodies_repeated: int = 0

    @property
    def contended(self) -> bool:
        """Others used CPU the run could have had: the machine was saturated while they ran."""
        return (self.other_cpu or 0) > 0.1 and (self.idle_cpu or 0) < 0.1

    rps_ratio: float | None = None
    p50_ratio: float | None = None
    p99_ratio: float | None = None


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _to_ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk(output: str) -> dict[str, Any]:
    """Pull throughput, the 50%/99% latencies and error counts out of `wrk --latency` output."""

    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"wrk output lacks {pattern!r}:\n{output}")
        return match

    percentile = r"^\s+{}%\s+([\d.]+)(us|ms|s|m|h)\s*$"
    p50 = find(percentile.format(50))
    p99 = find(percentile.format(99))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": int(find(r"^\s+(\d+) requests in")[1]),
        "requests_per_second": float(find(r"^Requests/sec:\s+([\d.]+)")[1]),
        "p50_ms": _to_ms(p50[1], p50[2]),
        "p99_ms": _to_ms(p99[1], p99[2]),
        "non_2xx_3xx": int(non_2xx[1]) if non_2xx else 0,
        "socket_errors": dict(
            zip(["connect", "read", "write", "timeout"], map(int, errors.groups()), strict=True)
        )
        if errors
        else {},
    }


def _lua_string(text: str) -> str:
    """A Lua string literal for any text (printable ASCII kept, everything else as \\ddd)."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in '"\\' or not 32 <= byte < 127:
            out.append(f"\\{byte:03d}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


# A target with a list of bodies: each wrk thread reads the file of bodies (one a line) and
# keeps its own stride from line `first` on (thread k of T: first + k, first + k + T, ...), so no
# two requests share a body; at the end, `done` writes the line after the last one used and how
# many requests repeated a body because the thread's stride ran out.
_BODIES_LUA = """
local bodies_file, first, stride, used_file = {bodies_file}, {first}, {stride}, {used_file}
local threads, counter = {{}}, 0

function setup(thread)
    thread:set("id", counter)
    table.insert(threads, thread)
    counter = counter + 1
end

function init(args)
    bodies, sent = {{}}, 0
    local line_number = 0
    for line in io.lines(bodies_file) do
        if line_number >= first and (line_number - first) % stride == id then
            bodies[#bodies + 1] = line
        end
        line_number = line_number + 1
    end
    count = #bodies
end

function request()
    sent = sent + 1
    return wrk.format(nil, nil, nil, bodies[(sent - 1) % count + 1])
end

function done(summary, latency, requests)
    local next_line, sent_total, repeated = first, 0, 0
    for _, thread in ipairs(threads) do
        local n, k, c = thread:get("sent"), thread:get("id"), thread:get("count")
        if n > 0 then
            next_line = math.max(next_line, first + k + stride * (math.min(n, c) - 1) + 1)
        end
        sent_total = sent_total + math.min(n, c)
        repeated = repeated + math.max(0, n - c)
    end
    local out = assert(io.open(used_file, "w"))
    out:write(string.format("%d %d %d\\n", next_line, sent_total, repeated))
    out:close()
end
"""


# A target with a list of paths: every thread reads the file (a path a line, optionally a tab
# and an If-None-Match value) and cycles through it from its own offset, so the threads spread
# over the list at once; paths repeat when the list is shorter than the run (a query mix).
_PATHS_LUA = """
local paths_file, counter = {paths_file}, 0

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
end

function init(args)
    paths, tags = {{}}, {{}}
    for line in io.lines(paths_file) do
        local path, tag = line:match("^([^\t]*)\t?(.*)$")
        paths[#paths + 1] = path
        tags[#tags + 1] = tag
    end
    n = (id * 7919) % #paths
end

function request()
    n = n % #paths + 1
    local headers = nil
    if tags[n] ~= "" then
        headers = {{}}
        for name, value in pairs(wrk.headers) do headers[name] = value end
        headers["If-None-Match"] = tags[n]
    end
    return wrk.format(nil, paths[n], headers, nil)
end
"""


def wrk_script(
    target: Target,
    *,
    paths_file: Path | None = None,
    bodies_file: Path | None = None,
    first: int = 0,
    stride: int = 1,
    used_file: Path | None = None,
) -> str:
    lines = [f"wrk.method = {_lua_string(target.method)}"]
    for name, value in target.headers.items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    if target.bodies:
        assert bodies_file is not None and used_file is not None
        lines.append(
            _BODIES_LUA.format(
                bodies_file=_lua_string(str(bodies_file)),
                first=first,
                stride=stride,
                used_file=_lua_string(str(used_file)),
            )
        )
    elif target.paths:
        assert paths_file is not None
        lines.append(_PATHS_LUA.format(paths_file=_lua_string(str(paths_file))))
    elif target.body is not None:
        lines.append(f"wrk.body = {_lua_string(target.body)}")
    return "\n".join(lines) + "\n"


@dataclass
class BodyCursor:
    """Where a target with a list of bodies is in it, across its probe, warm-up and measurement."""

    file: Path
    total: int
    next: int = 0  # the first body no request has used yet


@dataclass
class Driver:
    port: int
    work_dir: Path
    threads: int
    connections: int
    meter: CpuMeter
    cursors: dict[str, BodyCursor] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def wrk_threads(self) -> int:
        return min(self.threads, self.connections)

    def cursor(self, target: Target) -> BodyCursor:
        """The target's list of bodies, written to a file (one a line) the first time."""
        found = self.cursors.get(target.name)
        if found is None:
            if any("\n" in body or "\r" in body for body in target.bodies):
                raise ValueError(f"{target.name}: a body in the list spans more than one line")
            path = self.work_dir / f"bodies-{len(self.cursors)}.txt"
            path.write_text("".join(body + "\n" for body in target.bodies))
            found = self.cursors[target.name] = BodyCursor(path, len(target.bodies))
        return found

    def run_wrk(self, target: Target, seconds: int) -> tuple[str, tuple[int, int] | None]:
        """wrk's output, and for a list of bodies (bodies sent, requests that repeated one)."""
        script = self.work_dir / "request.lua"
        used_file = self.work_dir / "bodies-used.txt"
        cursor = self.cursor(target) if target.bodies else None
        if target.paths:
            paths_file = self.work_dir / "paths.txt"
            paths_file.write_text("".join(path + "\n" for path in target.paths))
            script.write_text(wrk_script(target, paths_file=paths_file))
        elif cursor is None:
            script.write_text(wrk_script(target))
        else:
            if cursor.total - cursor.next < self.wrk_threads:
                log(
                    f"WARNING {target.name}: all {cursor.total} bodies used; starting over, so "
                    "bodies repeat from here on (single-use ones answer errors)"
                )
                cursor.next = 0
            used_file.unlink(missing_ok=True)
            script.write_text(
                wrk_script(
                    target,
                    bodies_file=cursor.file,
                    first=cursor.next,
                    stride=self.wrk_threads,
                    used_file=used_file,
                )
            )
        command = [
            "wrk",
            "-t",
            str(self.wrk_threads),
            "-c",
            str(self.connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            WRK_TIMEOUT,
            "--latency",
            "-s",
            str(script),
            self.base_url + target.path,
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 30, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
        if cursor is None:
            return done.stdout, None
        try:
            next_line, sent, repeated = map(int, used_file.read_text().split())
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"wrk's script did not say which bodies it used: {exc}") from None
        cursor.next = next_line
        if repeated:
            log(
                f"WARNING {target.name}: {repeated} requests repeated a body (the list of "
                f"{cursor.total} ran out); single-use bodies answer errors"
            )
        return done.stdout, (sent, repeated)

    def probe(self, target: Target) -> tuple[int, bytes]:
        """One request before the load, so a wrong status is reported with its body."""
        body = target.body
        if target.bodies:
            cursor = self.cursor(target)
            body = target.bodies[cursor.next % cursor.total]
            cursor.next += 1
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            conn.request(
                target.method,
                target.path,
                body=body.encode() if body is not None else None,
                headers=target.headers,
            )
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def measure(self, target: Target, *, seconds: int, warmup: int) -> Measurement:
        status, body = self.probe(target)
        problem = None
        if not 200 <= status < 400:
            log(f"WARNING {target.name} answered {status}: {body[:300]!r}")
        elif target.check is not None:
            problem = target.check(body)
            if problem:
                log(f"WARNING {target.name}: wrong answer ({problem}): {body[:300]!r}")
        if warmup:
            self.run_wrk(target, warmup)
        before = self.meter.sample()
        output, used = self.run_wrk(target, seconds)
        other, idle = self.meter.shares(before, self.meter.sample())
        result = Measurement(
            name=target.name,
            method=target.method,
            path=target.path,
            probe_status=status,
            other_cpu=other,
            idle_cpu=idle,
            probe_problem=problem,
            bodies_sent=used[0] if used else None,
            bodies_repeated=used[1] if used else 0,
            **parse_wrk(output),
        )
        problems = result.non_2xx_3xx + sum(result.socket_errors.values())
        log(
            f"{target.name}: {result.requests_per_second:.0f} req/s, "
            f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms"
            + (f", {problems} errors" if problems else "")
            + (
                f", {result.bodies_sent} different bodies"
                + (f" ({result.bodies_repeated} requests repeated one)" if used[1] else "")
                if used
                else ""
            )
            + (
                f", other processes used {other:.0%} of the CPUs ({idle or 0:.0%} left idle)"
                if other and other > 0.05
                else ""
            )
        )
        return result


def wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False, timeout=10)
    return (done.stdout + done.stderr).strip().splitlines()[0] if done.stdout or done.stderr else ""


# ---------------------------------------------------------------------------------------------
# Database and server


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty database for this run, dropped afterwards (even on failure)."""
    name = f"govstore_bench_{secrets.token_hex(4)}"
    admin_dsn = POSTGRES_SERVER.replace("+asyncpg", "") + "postgres"

    async def execute(statement: str) -> None:
        conn = await asyncpg.connect(admin_dsn, timeout=10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    log(f"created PostgreSQL database {name}")
    try:
        yield POSTGRES_SERVER + name
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        log(f"dropped PostgreSQL database {name}")


def marketplace_command() -> str:
    sibling = Path(sys.executable).parent / "marketplace"
    found = str(sibling) if sibling.exists() else shutil.which("marketplace")
    if not found:
        raise RuntimeError("the `marketplace` command is not installed; run `make install`")
    return found


def server_env(data_dir: Path, database_url: str, base_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GOVSTORE_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "GOVSTORE_BASE_URL": base_url,
            "REDIS_URL": "",  # jobs and counters in-process: one server, nothing else measured
            "GOVSTORE_RATE_LIMIT_PER_ADDRESS": UNLIMITED,
            "GOVSTORE_RATE_LIMIT_PER_TOKEN": UNLIMITED,
            "GOVSTORE_LOG_LEVEL": "WARNING",
            # Measure this checkout's code, even packages added since the last `make install`.
            "PYTHONPATH": os.pathsep.join(p for p in [str(ROOT), env.get("PYTHONPATH")] if p),
        }
    )
    return env


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [marketplace_command(), "migrate"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"marketplace migrate failed:\n{done.stdout}{done.stderr}")


async def settle(database_url: str) -> None:
    """Leave the database as it would be a while after the load, so no upkeep runs mid-measure.

    PostgreSQL: VACUUM (ANALYZE), which autovacuum would soon do after so many inserts (planner
    statistics, visibility map), then a CHECKPOINT. SQLite: fold the WAL into the database file;
    no ANALYZE, because the app never runs it.
    """
    engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            if database_url.startswith("postgresql"):
                await conn.execute(sa.text("VACUUM (ANALYZE)"))
                await conn.execute(sa.text("CHECKPOINT"))
            else:
                await conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running_server(
    env: dict[str, str], port: int, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`marketplace serve` on loopback until the block ends; stopped by its own process id."""
    with log_path.open("wb") as server_log:
        process = subprocess.Popen(
            [marketplace_command(), "serve", "--host", HOST, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_healthy(process, port, log_path)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
            log(f"server stopped (exit {process.returncode})")


def _wait_healthy(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log_path.read_text(errors='replace')}")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz within {SERVER_START_TIMEOUT:.0f} s")


_METRIC = re.compile(
    r'^govstore_http_requests_total\{method="(?P<method>[^"]+)",route="(?P<route>[^"]+)",'
    r'status="(?P<status>\d+)"\} (?P<count>[\d.e+]+)$',
    re.MULTILINE,
)


def server_status_counts(port: int) -> dict[str, dict[str, int]]:
    """Responses the server itself counted, by route and status (from /metrics)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    counts: dict[str, dict[str, int]] = {}
    for m in _METRIC.finditer(text):
        route = f"{m['method']} {m['route']}"
        counts.setdefault(route, {})[m["status"]] = int(float(m["count"]))
    return counts


def server_log_problems(log_path: Path) -> list[str]:
    lines = log_path.read_text(errors="replace").splitlines()
    return [line for line in lines if " ERROR " in line or line.startswith("Traceback")]


# ---------------------------------------------------------------------------------------------
# Report


@dataclass
class Report:
    name: str  # the stem of this run's files in bench/results/
    started_at: str
    backend: str
    scenario: str
    size: int
    duration: int
    warmup: int
    connections: int
    threads: int
    machine: dict[str, Any]
    load_seconds: float = 0.0
    settle_seconds: float | None = None  # the server's start-up work, before measuring
    rows: dict[str, int] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    results: list[Measurement] = field(default_factory=list)
    server_errors: dict[str, dict[str, int]] = field(default_factory=dict)
    server_log_problems: list[str] = field(default_factory=list)
    server_log: str | None = None  # a copy of the server's output, next to the JSON
    server_peak_rss_mb: float | None = None  # the server process's high-water resident memory


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), in MB, or None when /proc cannot say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def apply_baseline(report: Report, first: Measurement, last: Measurement) -> None:
    rps = (first.requests_per_second + last.requests_per_second) / 2
    p50 = (first.p50_ms + last.p50_ms) / 2
    p99 = (first.p99_ms + last.p99_ms) / 2
    report.baseline = {
        "requests_per_second": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "drift": abs(first.requests_per_second - last.requests_per_second) / rps if rps else 0.0,
    }
    for result in report.results:
        result.rps_ratio = result.requests_per_second / rps if rps else None
        result.p50_ratio = result.p50_ms / p50 if p50 else None
        result.p99_ratio = result.p99_ms / p99 if p99 else None


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def render_table(report: Report) -> str:
    header = [
        "endpoint",
        "req/s",
        "p50",
        "p99",
        "req/s ÷ healthz",
        "p50 ÷ healthz",
        "p99 ÷ healthz",
        "errors",
        "CPU other/idle",
    ]
    rows = [header]
    for r in report.results:
        errors = r.non_2xx_3xx + sum(r.socket_errors.values())
        rows.append(
            [
                r.name,
                f"{r.requests_per_second:.0f}",
                _ms(r.p50_ms),
                _ms(r.p99_ms),
                _ratio(r.rps_ratio),
                _ratio(r.p50_ratio),
                _ratio(r.p99_ratio),
                str(errors) if errors else "",
                ""
                if r.other_cpu is None
                else f"{'! ' if r.contended else ''}{r.other_cpu:.0%}/{r.idle_cpu or 0:.0%}",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {1, 2, 3, 4, 5, 6, 7, 8}

    def line(row: Sequence[str]) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if i in right else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


def summary(report: Report) -> str:
    b = report.baseline
    lines = [
        f"GovStore bench: scenario {report.scenario}, backend {report.backend}, "
        f"size {report.size}, {report.duration} s per endpoint, "
        f"wrk -t{report.threads} -c{report.connections}, "
        f"{report.machine['cpus']} CPUs, {report.started_at}",
        f"loaded {sum(report.rows.values())} rows in {report.load_seconds:.1f} s: "
        + ", ".join(f"{k} {v}" for k, v in report.rows.items()),
        "server idle "
        + (
            f"{report.settle_seconds:.0f} s after start-up"
            if report.settle_seconds is not None
            else f"NOT YET {SERVER_SETTLE_TIMEOUT:.0f} s after start-up"
        ),
        "server peak memory (resident): "
        + (
            f"{report.server_peak_rss_mb:.0f} MB"
            if report.server_peak_rss_mb is not None
            else "unknown"
        ),
        f"/healthz baseline (mean of first and last run): {b['requests_per_second']:.0f} req/s, "
        f"p50 {_ms(b['p50_ms'])}, p99 {_ms(b['p99_ms'])}; drift between the two "
        f"{b['drift'] * 100:.0f}%",
        "",
        render_table(report),
    ]
    busy = report.machine.get("cpu_busy_before")
    if busy is not None and busy > 0.2:
        lines.append(
            f"\nWARNING: the CPUs were {busy:.0%} busy with other work before the run started; "
            "rerun on a quiet machine."
        )
    disturbed = [r.name for r in report.results if r.contended]
    if disturbed:
        lines.append(
            "\nWARNING (rows marked !): other processes used more than 10% of the CPUs while "
            "the machine had less than 10% idle, so they took CPU from the run: "
            + ", ".join(disturbed)
            + ". Those rows are not worth recording."
        )
    if report.settle_seconds is None:
        lines.append(
            f"\nWARNING: the server was still busy {SERVER_SETTLE_TIMEOUT:.0f} s after start-up "
            "(background jobs working through the loaded data?), so it competed with the "
            "measured requests."
        )
    if b["drift"] > 0.2:
        lines.append(
            "\nWARNING: /healthz moved by more than 20% between the first and last run; "
            "the machine was busy with something else, so ratios are unreliable."
        )
    wrong = [r for r in report.results if r.probe_problem]
    if wrong:
        lines.append("\nWrong answers to the probe request (the run failed):")
        lines.extend(f"  {r.name}: {r.probe_problem}" for r in wrong)
    if report.server_errors:
        lines.append("\nNon-2xx/3xx responses counted by the server:")
        for route, statuses in report.server_errors.items():
            lines.append(
                f"  {route}: " + ", ".join(f"{n} of status {s}" for s, n in statuses.items())
            )
    if report.server_log_problems:
        lines.append("\nServer log errors (first 10):")
        lines.extend("  " + line for line in report.server_log_problems[:10])
        lines.append(f"  (the whole log: {report.server_log})")
    return "\n".join(lines)


def write_json(report: Report) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{report.name}.json"
    path.write_text(json.dumps(asdict(report), indent=2) + "\n")
    return path


def machine() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    ).stdout.strip()
    if commit and dirty:
        commit += "+uncommitted changes"
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "wrk": wrk_version(),
        "commit": commit or None,
    }


# ---------------------------------------------------------------------------------------------
# The run


def load_scenario(name: str) -> ModuleType:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"bench: invalid scenario name {name!r}")
    try:
        module = importlib.import_module(f"bench.scenarios.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"bench.scenarios.{name}":
            raise
        available = sorted(
            p.stem for p in (ROOT / "bench" / "scenarios").glob("*.py") if p.stem != "__init__"
        )
        raise SystemExit(f"bench: no scenario {name!r}; have {', '.join(available)}") from None
    for attribute in ("load", "targets"):
        if not hasattr(module, attribute):
            raise SystemExit(f"bench: scenario {name} lacks {attribute}()")
    return module


def run(args: argparse.Namespace) -> Report:
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is not installed (bench/run installs it)")
    scenario = load_scenario(args.scenario)
    busy = cpu_busy()
    if busy is not None and busy > 0.2:
        log(
            f"WARNING: the CPUs are already {busy:.0%} busy before the run; something else is "
            "running, so these figures will be noisy"
        )
    now = datetime.now(UTC)
    report = Report(
        name=f"{now:%Y%m%dT%H%M%SZ}-{args.backend}-{args.scenario}",
        started_at=now.isoformat(timespec="seconds"),
        backend=args.backend,
        scenario=args.scenario,
        size=args.size,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        machine=machine(),
    )
    report.machine["cpu_busy_before"] = busy
    with tempfile.TemporaryDirectory(prefix="govstore-bench-") as tmp, contextlib.ExitStack() as s:
        work = Path(tmp)
        data_dir = work / "data"
        data_dir.mkdir()
        if args.backend == "postgresql":
            database_url = s.enter_context(postgres_database())
        else:
            database_url = f"sqlite+aiosqlite:///{data_dir / 'govstore.sqlite3'}"
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        env = server_env(data_dir, database_url, base_url)

        log(f"migrating a fresh {args.backend} database")
        migrate(env)
        log(f"loading scenario {args.scenario} at size {args.size}")
        started = time.monotonic()
        ctx = asyncio.run(scenario.load(database_url, args.size))
        asyncio.run(settle(database_url))
        report.load_seconds = time.monotonic() - started
        report.rows = dict(getattr(ctx, "rows", {}))
        log(f"loaded {sum(report.rows.values())} rows in {report.load_seconds:.1f} s")

        targets: list[Target] = list(scenario.targets(ctx))
        baseline = next((t for t in targets if t.path == HEALTHZ.path), HEALTHZ)
        others = [t for t in targets if t is not baseline]
        log_path = work / "server.log"
        server = s.enter_context(running_server(env, port, log_path))
        report.settle_seconds = wait_idle(server.pid)
        if report.settle_seconds is None:
            log(f"WARNING: the server was still busy {SERVER_SETTLE_TIMEOUT:.0f} s after start")
        log(f"server up on {base_url}; {len(others) + 2} runs of {args.duration} s each")
        database = database_url.rsplit("/", 1)[1] if args.backend == "postgresql" else None
        meter = CpuMeter(server.pid, database)
        driver = Driver(port, work, args.threads, args.connections, meter)
        first = driver.measure(baseline, seconds=args.duration, warmup=args.warmup)
        first.name = f"{baseline.name} (first)"
        report.results.append(first)
        for target in others:
            report.results.append(driver.measure(target, seconds=args.duration, warmup=args.warmup))
        last = driver.measure(baseline, seconds=args.duration, warmup=0)
        last.name = f"{baseline.name} (last)"
        report.results.append(last)
        apply_baseline(report, first, last)
        report.server_peak_rss_mb = peak_rss_mb(server.pid)
        report.server_errors = {
            route: bad
            for route, statuses in server_status_counts(port).items()
            if (bad := {code: n for code, n in statuses.items() if int(code) >= 400})
        }
        report.server_log_problems = server_log_problems(log_path)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        kept = RESULTS_DIR / f"{report.name}.server.log"
        shutil.copyfile(log_path, kept)
        report.server_log = str(kept.relative_to(ROOT))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    report = run(args)
    print(summary(report))
    path = write_json(report)
    print(f"\nresults: {path.relative_to(ROOT)}")
    failed = report.server_errors or any(
        r.non_2xx_3xx or r.probe_problem or not 200 <= r.probe_status < 400 for r in report.results
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
