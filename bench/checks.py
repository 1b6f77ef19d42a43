"""Automated review checks: confusable-name lookups against 1k, 10k and 100k listed names, and
releases per second through every check with 100k listed.

    .venv/bin/python -m bench.checks [--lookups 1000] [--releases 2000] [--seed 2026]

Pure Python, no database: the checks are pure functions of a manifest, the published scopes and
the index of listed names. Listed names are generated from seeded word lists in the shapes real
service names take ("Ashford Council Tax Checker", "Kalomi Pharmacy"), so many share words,
which is what makes a confusable-name index work for its answers. Lookups are half new names
and half one-or-two-letter typos of listed ones. The 100k/1k ratio is measured in the same run:
a scan of every name would make it about 100.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from review.checks import REGISTRY, CheckContext, ConfusableIndex, ScopeInfo
from review.checks.name_not_confusable import edit_distance, max_distance, skeleton

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1_000, 10_000, 100_000)


def _words(text: str, separator: str | None = None) -> list[str]:
    return text.split(separator)


_PLACE_STARTS = _words(
    "Ash Bram Cal Dun East West North South Fair Glen Har Ivy Kel Lang Mill New Oak Pen Queens "
    "Red Stan Thorn Up Vale Yar Ald Bex Carl Den Elm Fox Gar Hol Kes Lin Mar Nor Ply Ring Sel "
    "Tad Wal Whit Wick Brook Black Green Mor Hal Chel Dor Ever Fen King Lyn Maid Over Rock Sand "
    "Stow Tar Wen"
)
_PLACE_ENDS = _words(
    "ford bridge field ham ley ton by wick worth stead minster mouth burn dale moor gate hurst "
    "combe well cliffe thorpe borough port haven wood"
)
_TOPICS = _words(
    "Housing|Parking|Benefits|Council Tax|Bin Collection|School Admissions|Bus Pass|Blue Badge|"
    "Childcare|Carers|Energy|Home Repairs|Library|Planning|Licensing|Recycling|Pension|Skills|"
    "Jobs|GP|Pharmacy|Dental|Transport|Cycling|Allotment|Waste|Roads|Flood|Tenancy|Rent|"
    "Adult Learning|Apprenticeship|Care Home|Mental Health|Debt Advice|Food Bank|Warm Home|"
    "Heating|Insulation|Volunteering|Youth|Sports|Swimming|Leisure|Museum|Registry|Birth|"
    "Wedding|Bereavement|Tax Credit|Student Finance|Bursary|Travel|Rail|Taxi|Car Club|Driving|"
    "Vaccination|Prescriptions|Physio|Hearing|Eye Care|Maternity|Baby|Nursery|Tutoring|Exams|"
    "Careers|Business|Market|Trading Standards|Noise|Pest Control|Parks|Tree|Footpath|"
    "Street Lighting|Potholes",
    "|",
)
_NOUNS = _words(
    "Checker|Finder|Helper|Tracker|Planner|Booking|Connect|Hub|Direct|Assist|Guide|Online|App|"
    "Portal|Pass|Wallet|Register|Reporter|Renewal|Advice|Support|Matcher|Calculator|Navigator|"
    "Companion|Compass|Link|Point|Desk|Line|Now|Plus|Together|Friend|Coach|Map|Alerts|Manager|"
    "Check|Apply",
    "|",
)
_SYLLABLES = _words(
    "ka ri mo le ta vo ne si ru pa lo mi zen dor tha bel cor fin gar hal bri sto que lan vex tor "
    "pim sul dra ken"
)


def generate_names(rng: random.Random, count: int) -> list[str]:
    """`count` distinct service names: place + topic + noun, or a made-up brand + topic (+ noun)."""

    def place() -> str:
        return rng.choice(_PLACE_STARTS) + rng.choice(_PLACE_ENDS)

    def brand() -> str:
        return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()

    names: set[str] = set()
    while len(names) < count:
        shape = rng.random()
        if shape < 0.45:
            names.add(f"{place()} {rng.choice(_TOPICS)} {rng.choice(_NOUNS)}")
        elif shape < 0.75:
            names.add(f"{brand()} {rng.choice(_TOPICS)}")
        else:
            names.add(f"{brand()} {rng.choice(_TOPICS)} {rng.choice(_NOUNS)}")
    ordered = sorted(names)
    rng.shuffle(ordered)
    return ordered


def typo(rng: random.Random, name: str) -> str:
    """`name` with one or two letters swapped, dropped, doubled or replaced."""
    chars = list(name)
    for _ in range(rng.randint(1, 2)):
        position = rng.randrange(1, len(chars) - 1)
        operation = rng.randrange(4)
        if operation == 0:
            chars[position], chars[position + 1] = chars[position + 1], chars[position]
        elif operation == 1:
            del chars[position]
        elif operation == 2:
            chars.insert(position, chars[position])
        else:
            chars[position] = rng.choice("aeiounrst")
    return "".join(chars)


def scopes() -> dict[str, ScopeInfo]:
    """The demo's published scopes, plus the two the test fixtures use that the demo lacks."""
    demo = json.loads((ROOT / "marketplace" / "demo" / "data.json").read_text())
    published = {
        s["name"]: ScopeInfo(s["name"], s["tier"], s["sensitivity"], s["data_owner"])
        for s in demo["scopes"]
    }
    published["housing.tenancy.verify"] = ScopeInfo(
        "housing.tenancy.verify", "status", "low", "Fenmoor District Council"
    )
    published["education.enrolment.verify"] = ScopeInfo(
        "education.enrolment.verify", "status", "low", "Department for Education"
    )
    return published


def fixture_manifests() -> list[dict[str, Any]]:
    folder = ROOT / "tests" / "fixtures" / "manifests" / "valid"
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def rss_mib() -> float | None:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def context_for(
    manifest: Mapping[str, Any], published: Mapping[str, ScopeInfo], index: ConfusableIndex
) -> CheckContext:
    return CheckContext(
        manifest=manifest,
        service_id="svc-candidate",
        scopes=published,
        names=index,
        sandbox=bool(manifest.get("sandbox")),
    )


def scan(skeletons: Sequence[str], query: str) -> int:
    """How many listed skeletons are confusable with `query`, found the slow way."""
    found = 0
    for listed in skeletons:
        limit = max_distance(min(len(listed), len(query)))
        if listed == query or (limit and edit_distance(listed, query, limit) is not None):
            found += 1
    return found


def run_release(ctx: CheckContext) -> int:
    """What the runner does for one release: every applicable check; returns the issue count."""
    issues = 0
    for check in REGISTRY.values():
        if check.applies(ctx):
            issues += len(check.run(ctx))
    return issues


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.checks", description=__doc__)
    parser.add_argument("--lookups", type=int, default=1000, help="lookups per size")
    parser.add_argument("--releases", type=int, default=2000, help="releases through all checks")
    parser.add_argument(
        "--scan-lookups", type=int, default=20, help="lookups by scanning every name, for scale"
    )
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args(argv)

    rng = random.Random(options.seed)
    largest = max(SIZES)
    all_names = generate_names(rng, largest + options.lookups)
    listed, fresh = all_names[:largest], all_names[largest:]
    published = scopes()
    name_check = REGISTRY["name-not-confusable"]
    templates = fixture_manifests()

    print(f"# Automated review checks (seed {options.seed}, pure Python, one process)\n")
    print(
        "| listed names | build (s) | index RSS (MiB) | lookup median (µs) | lookup p95 (µs) "
        "| name check median (µs) | matches | lookup vs 1k |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    medians: dict[int, float] = {}
    index = ConfusableIndex()
    for size in SIZES:
        del index
        gc.collect()
        before = rss_mib()
        start = time.perf_counter()
        index = ConfusableIndex((f"svc-{i}", name) for i, name in enumerate(listed[:size]))
        build = time.perf_counter() - start
        after = rss_mib()
        # Half new names, half typos of listed ones: both are what a lookup meets in practice.
        queries = [
            fresh[i] if i % 2 else typo(rng, listed[rng.randrange(size)])
            for i in range(options.lookups)
        ]
        lookups = [timed(partial(index.similar, query)) for query in queries]
        matches = sum(1 for query in queries if index.similar(query))
        check_times = []
        for query in queries:
            ctx = context_for({**templates[-1], "name": query}, published, index)
            check_times.append(timed(partial(name_check.run, ctx)))
        medians[size] = statistics.median(lookups)
        memory = f"{after - before:.0f}" if before is not None and after is not None else "n/a"
        print(
            f"| {size:,} | {build:.2f} | {memory} | {medians[size] * 1e6:.0f} "
            f"| {percentile(lookups, 0.95) * 1e6:.0f} | {statistics.median(check_times) * 1e6:.0f} "
            f"| {matches}/{len(queries)} | {medians[size] / medians[SIZES[0]]:.1f}x |"
        )

    # For scale: the same answer found by comparing with every listed name.
    skeletons = [skeleton(name) for name in listed]
    scans = [
        timed(partial(scan, skeletons, skeleton(query)))
        for query in queries[: options.scan_lookups]
    ]
    print(
        f"| {largest:,}, scanning every name | | | {statistics.median(scans) * 1e6:,.0f} | | | "
        f"| {statistics.median(scans) / medians[SIZES[0]]:,.0f}x |"
    )

    # Releases through every check, with the largest index: the fixture manifests in turn, each
    # under a new name or a typo of a listed one.
    releases = []
    for i in range(options.releases):
        manifest = copy.deepcopy(templates[i % len(templates)])
        manifest["name"] = fresh[i % len(fresh)] if i % 2 else typo(rng, rng.choice(listed))
        releases.append(context_for(manifest, published, index))
    per_check: dict[str, list[float]] = {check_id: [] for check_id in REGISTRY}
    start = time.perf_counter()
    for ctx in releases:
        run_release(ctx)
    elapsed = time.perf_counter() - start
    for ctx in releases:
        for check_id, check in REGISTRY.items():
            if check.applies(ctx):
                per_check[check_id].append(timed(partial(check.run, ctx)))

    print(
        f"\n{options.releases:,} releases through all {len(REGISTRY)} checks with "
        f"{largest:,} names listed: {options.releases / elapsed:,.0f} releases/s "
        f"({elapsed / options.releases * 1e3:.2f} ms each)\n"
    )
    print("| check | median (µs) | p95 (µs) |")
    print("|---|---:|---:|")
    for check_id, times in per_check.items():
        if times:
            print(
                f"| {check_id} | {statistics.median(times) * 1e6:.1f} "
                f"| {percentile(times, 0.95) * 1e6:.1f} |"
            )
    print(
        f"\nlookup median, {largest:,} vs {SIZES[0]:,} names: "
        f"{medians[largest] / medians[SIZES[0]]:.1f}x for {largest // SIZES[0]}x the names"
    )


if __name__ == "__main__":
    main()
