"""name-not-confusable: a new name must not pass for a listed service's (the typosquatting guard).

Names are compared by skeleton: NFKC, casefold, look-alike letters folded (`_confusables`), and
filler words ("app", "online", "the") and punctuation dropped, so "The Acme-GP App" and
"Acme GP Online" share the skeleton "acmegp". Two names are confusable when their skeletons are
equal, or within an optimal-string-alignment (Damerau-Levenshtein) distance of 1 when the shorter
skeleton has 4 to 8 letters, or 2 when it has 9 or more. Skeletons under 4 letters match only
when equal: at that length one letter is the whole difference between unrelated names.

`ConfusableIndex` finds candidates without looking at every listed name. A full deletion
neighbourhood (SymSpell) at distance 2 files a typical 19-letter skeleton under about 190
variants: some 19 million keys, gigabytes, for 100,000 names. So the index splits each skeleton
in two instead. If two skeletons are within distance 2, then in one half the first skeleton and
the same stretch of the second are within one deletion of each other: each edit falls in one
half, or straddles the cut and costs each half one deletion. Filing every one-deletion variant
of each half, keyed by the skeleton's length and the side, costs about len + 2 keys per name.
A lookup probes the one-deletion variants of the new skeleton's halves for each length within
reach (about a hundred dictionary probes, however many names are listed), skips candidates whose
letter counts differ too much, and verifies the rest with a real edit distance. The tests
compare it with a scan of every name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from review.checks._confusables import fold_letters, fold_pairs
from review.checks._core import Check, CheckContext, Issue, register

# Words that do not tell one service from another ("Acme GP" and "Acme GP Online" are one name).
FILLER_WORDS = frozenset(
    fold_letters(word)
    for word in (
        "a",
        "an",
        "and",
        "app",
        "apps",
        "my",
        "official",
        "online",
        "portal",
        "service",
        "services",
        "the",
        "uk",
        "ltd",
        "limited",
    )
)
# Names whose skeletons are shorter than this match only when identical.
MIN_FUZZY_LENGTH = 4
# Skeletons at least this long may differ by two edits; shorter ones by one.
TWO_EDIT_LENGTH = 9
# Most matches named in one finding; the rest are counted.
MAX_NAMED = 3

_WORD_BREAK = re.compile(r"[\W_]+")


def skeleton(name: str) -> str:
    """The form names are compared in: folded look-alikes, no filler words, no punctuation."""
    words = [word for word in _WORD_BREAK.split(fold_letters(name)) if word]
    kept = [word for word in words if word not in FILLER_WORDS] or words
    return fold_pairs("".join(kept))


def max_distance(length: int) -> int:
    """How many edits two skeletons may differ by, given the shorter one's length."""
    if length < MIN_FUZZY_LENGTH:
        return 0
    return 1 if length < TWO_EDIT_LENGTH else 2


def edit_distance(a: str, b: str, limit: int) -> int | None:
    """Optimal string alignment distance (adjacent swaps cost 1), or None if it exceeds `limit`.

    Only cells within `limit` of the diagonal are computed: any path leaving that band already
    costs more than `limit`.
    """
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return None
    # A shared start or end costs nothing and leaves the band shorter.
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end = 0
    while end < len(a) - start and end < len(b) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    a, b = a[start : len(a) - end], b[start : len(b) - end]
    if len(a) > len(b):
        a, b = b, a
    beyond = limit + 1
    width = len(b)
    previous2: list[int] = []
    previous = [j if j <= limit else beyond for j in range(width + 1)]
    for i in range(1, len(a) + 1):
        current = [beyond] * (width + 1)
        if i <= limit:
            current[0] = i
        char_a = a[i - 1]
        row_best = current[0]
        for j in range(max(1, i - limit), min(width, i + limit) + 1):
            char_b = b[j - 1]
            value = previous[j - 1] if char_a == char_b else previous[j - 1] + 1
            if previous[j] + 1 < value:
                value = previous[j] + 1
            if current[j - 1] + 1 < value:
                value = current[j - 1] + 1
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                value = min(value, previous2[j - 2] + 1)
            current[j] = min(value, beyond)
            row_best = min(row_best, current[j])
        if row_best > limit:
            return None
        previous2, previous = previous, current
    distance = previous[width]
    return distance if distance <= limit else None


def _letter_mask(skel: str) -> int:
    """A bit per (letter, occurrence) for the first three occurrences of each letter.

    Letters are hashed to 64 bit positions; the n-th occurrence of a letter sets its bit in the
    n-th 64-bit word. A substitution clears at most one bit and sets at most one, an insertion
    or deletion changes one, a swap none: skeletons within `k` edits differ in at most 2k bits,
    which rules out most candidates before the real distance is computed.
    """
    mask = 0
    seen: dict[str, int] = {}
    for char in skel:
        count = seen.get(char, 0)
        if count < 3:
            mask |= 1 << ((ord(char) & 63) + 64 * count)
            seen[char] = count + 1
    return mask


def _one_deletion_variants(text: str) -> set[str]:
    return {text} | {text[:i] + text[i + 1 :] for i in range(len(text))}


def _half_keys(skel: str) -> set[str]:
    """The keys a listed skeleton is filed under: each half's one-deletion variants."""
    length = len(skel)
    middle = length // 2
    keys = {f"{length}<{variant}" for variant in _one_deletion_variants(skel[:middle])}
    keys.update(f"{length}>{variant}" for variant in _one_deletion_variants(skel[middle:]))
    return keys


def _probe_keys(skel: str) -> list[str]:
    """Every key under which a listed skeleton within reach of `skel` must be filed.

    For each length a listed skeleton within reach could have, `skel` is cut where that
    skeleton was cut (at half its length, counted from the start for the left half and from the
    end for the right). Cutting there rather than where the alignment crosses the split costs at
    most the one deletion each side already allows for: a character pushed across the cut is
    deleted from one side, the edit that pushed it from the other.
    """
    length = len(skel)
    reach = max_distance(length)
    keys: list[str] = []
    variants: dict[str, set[str]] = {}  # neighbouring lengths often cut in the same place
    for listed_length in range(max(MIN_FUZZY_LENGTH, length - reach), length + reach + 1):
        if abs(listed_length - length) > max_distance(min(listed_length, length)):
            continue
        left = skel[: min(listed_length // 2, length)]
        right = skel[max(length - (listed_length - listed_length // 2), 0) :]
        for side, half in (("<", left), (">", right)):
            if half not in variants:
                variants[half] = _one_deletion_variants(half)
            prefix = f"{listed_length}{side}"
            keys.extend(prefix + variant for variant in variants[half])
    return keys


class _Listed(NamedTuple):
    name: str
    skeleton: str
    letters: int


class ConfusableIndex:
    """Listed services' names, searchable for confusable matches without scanning them all."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self._names: dict[str, _Listed] = {}
        self._by_skeleton: dict[str, set[str]] = {}
        # Most keys belong to one service, so a key holds a bare id until a second one arrives:
        # a set per key would triple the index's memory.
        self._by_half: dict[str, str | set[str]] = {}
        for service_id, name in entries:
            self.add(service_id, name)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, service_id: object) -> bool:
        return service_id in self._names

    def add(self, service_id: str, name: str) -> None:
        """List `name` for `service_id`, replacing the service's previous name if it had one."""
        self.remove(service_id)
        skel = skeleton(name)
        self._names[service_id] = _Listed(name, skel, _letter_mask(skel))
        self._by_skeleton.setdefault(skel, set()).add(service_id)
        if len(skel) < MIN_FUZZY_LENGTH:
            return
        for key in _half_keys(skel):
            held = self._by_half.get(key)
            if held is None:
                self._by_half[key] = service_id
            elif isinstance(held, str):
                self._by_half[key] = {held, service_id}
            else:
                held.add(service_id)

    def remove(self, service_id: str) -> None:
        """Forget `service_id`'s name; a service that is not listed is ignored."""
        entry = self._names.pop(service_id, None)
        if entry is None:
            return
        skel = entry.skeleton
        same = self._by_skeleton[skel]
        same.discard(service_id)
        if not same:
            del self._by_skeleton[skel]
        if len(skel) < MIN_FUZZY_LENGTH:
            return
        for key in _half_keys(skel):
            held = self._by_half[key]
            if isinstance(held, str):
                del self._by_half[key]
                continue
            held.discard(service_id)
            if len(held) == 1:
                self._by_half[key] = next(iter(held))

    def similar(self, name: str, *, exclude_service_id: str | None = None) -> list[tuple[str, str]]:
        """(service_id, listed name) pairs confusable with `name`, closest first."""
        skel = skeleton(name)
        if not skel:
            return []  # nothing but punctuation: nothing to compare
        candidates: set[str] = set(self._by_skeleton.get(skel, ()))
        if len(skel) >= MIN_FUZZY_LENGTH:
            for key in _probe_keys(skel):
                held = self._by_half.get(key)
                if held is None:
                    continue
                if isinstance(held, str):
                    candidates.add(held)
                else:
                    candidates.update(held)
        if exclude_service_id is not None:
            candidates.discard(exclude_service_id)
        letters = _letter_mask(skel)
        most_bits = 2 * max_distance(len(skel))
        names = self._names
        # The letter test first, in one pass: popular halves can bring thousands of candidates.
        close = [
            service_id
            for service_id in candidates
            if (names[service_id].letters ^ letters).bit_count() <= most_bits
        ]
        found: list[tuple[int, str, str]] = []
        for service_id in close:
            listed = names[service_id]
            if listed.skeleton == skel:
                found.append((0, listed.name, service_id))
                continue
            limit = max_distance(min(len(skel), len(listed.skeleton)))
            if not limit or (listed.letters ^ letters).bit_count() > 2 * limit:
                continue
            distance = edit_distance(skel, listed.skeleton, limit)
            if distance is not None:
                found.append((distance, listed.name, service_id))
        found.sort()
        return [(service_id, listed_name) for _, listed_name, service_id in found]


def _quote_names(names: Sequence[str]) -> str:
    quoted = [f"“{name}”" for name in names[:MAX_NAMED]]
    if len(names) > MAX_NAMED:
        quoted.append(f"{len(names) - MAX_NAMED} more")
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def run(ctx: CheckContext) -> list[Issue]:
    name = ctx.manifest.get("name")
    if not isinstance(name, str) or not name.strip():
        return [
            Issue(
                pointer="/name",
                message="The manifest has no service name to compare with listed services.",
                fix="Give the service a name in the name field.",
            )
        ]
    matches = ctx.names.similar(name, exclude_service_id=ctx.service_id)
    if not matches:
        return []
    listed = [listed_name for _, listed_name in matches]
    already = "is already listed" if len(listed) == 1 else "are already listed"
    return [
        Issue(
            pointer="/name",
            message=(
                f"“{name}” could be mistaken for {_quote_names(listed)}, which {already}: "
                "the names differ only by a few characters, look-alike letters or filler words."
            ),
            fix=(
                "Choose a name that citizens cannot mistake for another service. If you run "
                "the listed service too, submit this as a release of that service instead."
            ),
        )
    ]


CHECK = register(
    Check(
        id="name-not-confusable",
        title="Name not confusable with a listed service",
        description=(
            "The service name must not match a listed service's name once look-alike "
            "characters (Cyrillic and Greek letters, fullwidth forms, 0 for o, rn for m), "
            "case, punctuation and filler words such as 'app' and 'online' are ignored, nor "
            "differ from it by one or two typing errors."
        ),
        run=run,
    )
)
