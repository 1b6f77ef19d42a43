from __future__ import annotations

import random

import pytest

from review.checks import NameIndex, name_not_confusable
from review.checks.name_not_confusable import (
    ConfusableIndex,
    edit_distance,
    max_distance,
    run,
    skeleton,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme GP Online", "acmegp"),
        ("The Acme-GP App", "acmegp"),
        ("ACME GP", "acmegp"),
        ("\N{GREEK CAPITAL LETTER ALPHA}cme GP", "acmegp"),
        ("\N{CYRILLIC CAPITAL LETTER A}cm\N{CYRILLIC SMALL LETTER IE} GP", "acmegp"),
        ("\N{FULLWIDTH LATIN CAPITAL LETTER A}\N{FULLWIDTH LATIN SMALL LETTER C}me GP", "acmegp"),
        ("Acrne GP", "acmegp"),  # rn reads as m
        ("Acmé GP", "acmegp"),
        ("Fix My Flat", "flxflat"),  # i and l are one letter; "my" is filler
        ("F1x My F|at", "flxflat"),
        ("VVarm Home", "warmhome"),
        ("Cl0ud 5ervice", "doud"),  # cl reads as d, 0 as o; "5ervice" is the filler "service"
        ("The App", "theapp"),  # nothing but filler: keep it all rather than compare nothing
    ],
)
def test_skeleton(name, expected):
    assert skeleton(name) == expected


@pytest.mark.parametrize(
    ("a", "b", "limit", "expected"),
    [
        ("warmhome", "warmhome", 2, 0),
        ("warmhome", "wramhome", 2, 1),  # an adjacent swap is one edit
        ("warmhome", "warmhom", 2, 1),
        ("warmhome", "warnhone", 2, 2),
        ("warmhome", "warnhone", 1, None),
        ("abc", "xyz", 2, None),
        ("kitten", "sitting", 3, 3),
    ],
)
def test_edit_distance(a, b, limit, expected):
    assert edit_distance(a, b, limit) == expected
    assert edit_distance(b, a, limit) == expected


@pytest.mark.parametrize(("length", "allowed"), [(3, 0), (4, 1), (8, 1), (9, 2), (40, 2)])
def test_max_distance(length, allowed):
    assert max_distance(length) == allowed


@pytest.mark.parametrize(
    "name",
    [
        "Acme GP",  # filler word dropped
        "ACME GP ONLINE",
        "Acme-GP Online App",
        "\N{CYRILLIC SMALL LETTER A}cme GP Online",
        "Acrne GP Online",
        "Acme GB Online",  # one letter in six
        "Warm Home Grant Chekcer",  # swapped letters
        "Warm Hone Grant Checker",
        "Warm Home Grants Checker",
        "Warm Home Grant Check",  # two letters in twenty
        "VVarm H0me Grant Checker",
        "Fix My Fiat",
        "Fix-My-Flat",
    ],
)
def test_confusable_names_are_found(names, name):
    assert names.similar(name) != []


@pytest.mark.parametrize(
    "name",
    [
        "Acme Dental",
        "Warm Home Heating Finder",
        "Fix My Bike",  # fixmybike vs fixmyflat: three edits
        "Fenmoor Housing Register",
    ],
)
def test_distinct_names_are_not(names, name):
    assert names.similar(name) == []


def test_short_skeletons_match_only_when_identical():
    index = ConfusableIndex([("svc-gp", "GP"), ("svc-bike", "Bike"), ("svc-kestrel", "Kestrel")])
    assert index.similar("gp app") == [("svc-gp", "GP")]
    assert index.similar("GB") == []
    assert index.similar("Hike") == [("svc-bike", "Bike")]  # four letters: one edit allowed
    assert index.similar("Kastrol") == []  # seven letters: two edits are too many


def test_matches_come_closest_first(names):
    names.add("svc-warm2", "Warm Home Grant Chequer")
    assert names.similar("Warm Home Grant Checker") == [
        ("svc-warm", "Warm Home Grant Checker"),
        ("svc-warm2", "Warm Home Grant Chequer"),
    ]


def test_a_service_can_be_excluded(names):
    assert names.similar("Acme GP Online", exclude_service_id="svc-acme") == []


def test_add_replaces_and_remove_forgets(names):
    assert len(names) == 3
    names.add("svc-acme", "Kestrel Medicines")
    assert len(names) == 3
    assert names.similar("Acme GP Online") == []
    assert names.similar("Kestrel Medicine") == [("svc-acme", "Kestrel Medicines")]
    names.remove("svc-acme")
    names.remove("svc-never-listed")
    assert "svc-acme" not in names
    assert names.similar("Kestrel Medicines") == []
    assert (
        names._by_half
        == ConfusableIndex(
            [("svc-warm", "Warm Home Grant Checker"), ("svc-flat", "Fix My Flat")]
        )._by_half
    )


def test_the_index_finds_exactly_what_a_scan_would():
    rng = random.Random(2026)

    def mutate(text):
        chars = list(text)
        for _ in range(rng.randint(0, 3)):
            position = rng.randrange(len(chars) + 1)
            operation = rng.randrange(4)
            if operation == 0 and position < len(chars):
                chars[position] = rng.choice("abc")
            elif operation == 1:
                chars.insert(position, rng.choice("abc"))
            elif operation == 2 and position < len(chars):
                del chars[position]
            elif operation == 3 and position + 1 < len(chars):
                chars[position], chars[position + 1] = chars[position + 1], chars[position]
        return "".join(chars) or "a"

    # Letters a, b, c only (no filler words, no folding) so that near misses are common.
    listed = ["".join(rng.choice("abc") for _ in range(rng.randint(2, 16))) for _ in range(200)]
    listed += [mutate(name) for name in listed]
    index = ConfusableIndex((str(i), name) for i, name in enumerate(listed))
    for query in [mutate(name) for name in listed[:200]]:
        scanned = set()
        for i, name in enumerate(listed):
            limit = max_distance(min(len(name), len(query)))
            if name == query or (limit and edit_distance(name, query, limit) is not None):
                scanned.add(str(i))
        assert {service_id for service_id, _ in index.similar(query)} == scanned, query


def test_a_lookup_verifies_a_few_candidates_not_every_name(monkeypatch):
    words = ["north", "south", "east", "west", "river", "hill", "park", "bridge", "green"]
    topics = ["housing", "parking", "benefits", "repairs", "recycling", "libraries"]
    listed = [f"{a}{b} {t} {n}" for a in words for b in words for t in topics for n in range(5)]
    index = ConfusableIndex((str(i), name) for i, name in enumerate(listed))
    verified = []
    real = name_not_confusable.edit_distance

    def counting(a, b, limit):
        verified.append(b)
        return real(a, b, limit)

    monkeypatch.setattr(name_not_confusable, "edit_distance", counting)
    found = index.similar("Northsouth Housing 3")
    assert found[0] == (str(listed.index("northsouth housing 3")), "northsouth housing 3")
    assert len(verified) < len(listed) / 20


def test_the_index_is_a_name_index():
    index: NameIndex = ConfusableIndex()
    assert index.similar("Anything") == []


def test_the_check_names_the_listed_service(context, manifest):
    issues = run(context(manifest(name="Warm H0me Grant Checker App")))
    assert [issue.pointer for issue in issues] == ["/name"]
    assert issues[0].message.startswith(
        "“Warm H0me Grant Checker App” could be mistaken for “Warm Home Grant Checker”, "
        "which is already listed"
    )
    assert "release of that service" in issues[0].fix


def test_the_check_passes_a_distinct_name(context, manifest):
    assert run(context(manifest(name="Fenmoor Bus Pass"))) == []


def test_a_new_release_of_a_listed_service_does_not_match_itself(context, manifest):
    assert run(context(manifest(), service_id="svc-warm")) == []


def test_many_matches_are_counted_after_the_first_three(context, manifest, names):
    for n in range(4):
        names.add(f"svc-copy-{n}", f"Warm Home Grant Checker {'!' * (n + 1)}")
    issues = run(context(manifest(name="Warm Home Grant Checkr")))
    assert "and 2 more, which are already listed" in issues[0].message


@pytest.mark.parametrize("name", [None, "", "  "])
def test_a_missing_name_is_reported(context, manifest, name):
    issues = run(context(manifest(name=name)))
    assert [issue.pointer for issue in issues] == ["/name"]


def test_the_check_is_registered_under_its_id():
    assert name_not_confusable.CHECK.id == "name-not-confusable"


def test_a_name_of_only_punctuation_matches_nothing():
    index = ConfusableIndex([("svc-a", "!!!")])
    assert index.similar("???") == []
