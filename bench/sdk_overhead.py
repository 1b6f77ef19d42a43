"""What the Python SDK adds to a client's wall time (issue #7: at most 15% over raw httpx).

Serves the demo data on loopback (`marketplace migrate`, `demo`, `serve`, as `make run`
does, with the rate limits out of reach), then makes the same catalogue searches
`--calls` times through `govstore.Client` (`catalogue.search(...)`, the first page:
request building, retries machinery, the `Listing` models) and through a raw
`httpx.Client` (`get(...).json()`), in interleaved rounds so both see the same server and
machine. Both keep one connection open and hit the server's catalogue cache, which makes
the server's share of each call small and the SDK's share as large as it gets: the ratio
is an upper bound for real use.

    .venv/bin/python -m bench.sdk_overhead                     # 1,000 calls each
    .venv/bin/python -m bench.sdk_overhead --calls 5000 --rounds 20
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import govstore
import httpx

from bench.harness import (
    ROOT,
    free_port,
    log,
    marketplace_command,
    migrate,
    running_server,
    server_env,
)

# The query mix: words, a filter, a browse; every one answers with listings.
QUERIES: list[dict[str, str]] = [
    {"q": "benefits"},
    {"category": "health"},
    {"kitemark": "accessible"},
    {"sort": "name"},
    {"q": "check", "sort": "rating"},
]
LIMIT = 20
BUDGET = 1.15


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench.sdk_overhead", description=__doc__)
    parser.add_argument("--calls", type=int, default=1000, help="calls per client (1000)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (10)")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured calls first (50)")
    return parser


def raw_call(http: httpx.Client, base_url: str) -> Callable[[int], int]:
    url = f"{base_url}/v1/catalogue/services"

    def call(i: int) -> int:
        response = http.get(url, params={**QUERIES[i % len(QUERIES)], "limit": str(LIMIT)})
        response.raise_for_status()
        return len(response.json()["items"])

    return call


def sdk_call(client: govstore.Client) -> Callable[[int], int]:
    def call(i: int) -> int:
        query = QUERIES[i % len(QUERIES)]
        page = next(iter(client.catalogue.search(**query, limit=LIMIT).pages()))
        return len(page.items)

    return call


def timed(call: Callable[[int], int], count: int, offset: int) -> float:
    started = time.perf_counter()
    for i in range(offset, offset + count):
        call(i)
    return time.perf_counter() - started


def measure(base_url: str, calls: int, rounds: int, warmup: int) -> dict[str, list[float]]:
    per_round = max(1, calls // rounds)
    times: dict[str, list[float]] = {"httpx": [], "govstore": []}
    with httpx.Client() as http, govstore.Client(base_url=base_url) as client:
        clients = {"httpx": raw_call(http, base_url), "govstore": sdk_call(client)}
        for name, call in clients.items():
            assert call(0) > 0, f"{name}: the demo catalogue answered no listings"
            timed(call, warmup, 0)
        for round_ in range(rounds):
            order = list(clients.items())
            if round_ % 2:  # alternate who goes first, so neither always follows the other
                order.reverse()
            for name, call in order:
                times[name].append(timed(call, per_round, round_ * per_round))
    return times


def report(times: dict[str, list[float]], calls: int) -> str:
    raw, sdk = sum(times["httpx"]), sum(times["govstore"])
    per_call = {name: sum(values) / calls * 1000 for name, values in times.items()}
    round_ratios = [s / r for s, r in zip(times["govstore"], times["httpx"], strict=True)]
    ratio = sdk / raw
    verdict = "within" if ratio <= BUDGET else "OVER"
    return "\n".join(
        [
            f"{calls} catalogue searches each, {len(times['httpx'])} interleaved rounds",
            f"  raw httpx        {raw:7.2f} s   {per_call['httpx']:6.3f} ms per call",
            f"  govstore.Client  {sdk:7.2f} s   {per_call['govstore']:6.3f} ms per call",
            f"  ratio govstore / httpx: {ratio:.3f} (rounds: min {min(round_ratios):.3f}, "
            f"median {statistics.median(round_ratios):.3f}, max {max(round_ratios):.3f}); "
            f"{verdict} the {BUDGET:.2f} budget",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="govstore-sdk-bench-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = server_env(data_dir, f"sqlite+aiosqlite:///{data_dir / 'govstore.db'}", base_url)
        migrate(env)
        subprocess.run(
            [marketplace_command(), "demo"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
        log("demo data loaded")
        with running_server(env, port, data_dir / "server.log"):
            times = measure(base_url, args.calls, args.rounds, args.warmup)
    print(report(times, (args.calls // args.rounds) * args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
