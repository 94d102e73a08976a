"""exomir.wildcards: the sample-ID constraint matches exactly the sheet's IDs, fast."""

from __future__ import annotations

import re

from exomir.wildcards import exact_alternation


def _matches(names: list[str], candidate: str) -> bool:
    return re.fullmatch(exact_alternation(names), candidate) is not None


def test_prefix_tree_regex_of_a_few_ids():
    assert exact_alternation(["S1", "S10", "S11", "S2", "a.b"]) == r"(?:S(?:1(?:0|1)?|2)|a\.b)"
    assert exact_alternation(["BC01"]) == "BC01"
    assert exact_alternation([]) == ""


def test_matches_exactly_the_given_ids():
    names = ["S1", "S10", "S100", "S1x", "a.b", "ab", "abc", "007", "x-y_z"]
    for name in names:
        assert _matches(names, name), name
    # prefixes, extensions and regex look-alikes ('.' taken literally) are refused
    for other in ["S", "S3", "S1000", "S10x", "aXb", "a", "abcd", "07", "x-y", ""]:
        assert not _matches(names, other), other


def test_same_language_as_the_plain_alternation_on_a_cohort():
    names = [f"S{i:04d}" for i in range(1, 2001)] + ["S1", "S12", "HC05"]
    fast = re.compile(rf"results/quantify/(?:{exact_alternation(names)})\.stats\.tsv")
    plain = re.compile(rf"results/quantify/(?:{'|'.join(map(re.escape, names))})\.stats\.tsv")
    for candidate in [*names, "S0000", "S2001", "S123", "S00011", "HC5", "S"]:
        path = f"results/quantify/{candidate}.stats.tsv"
        assert bool(fast.fullmatch(path)) == bool(plain.fullmatch(path)), candidate
