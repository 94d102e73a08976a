"""Atomic, deterministic output helpers."""

from __future__ import annotations

import gzip
import os

import pandas as pd
import pytest

from exomir.io import atomic_open, read_tsv, write_tsv


def test_atomic_open_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError):
        with atomic_open(target) as handle:
            handle.write("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_open_replaces_existing_only_on_success(tmp_path):
    target = tmp_path / "out.tsv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as handle:
            handle.write("new\n")
            raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    with atomic_open(target) as handle:
        handle.write("new\n")
    assert target.read_text() == "new\n"


def test_gzip_output_is_byte_identical_and_readable(tmp_path):
    outputs = []
    for name in ("a.tsv.gz", "b.tsv.gz"):
        with atomic_open(tmp_path / name) as handle:
            handle.write("sequence\tcount\nACGT\t3\n")
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    assert gzip.decompress(outputs[0]).decode() == "sequence\tcount\nACGT\t3\n"


def test_files_get_normal_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_open(tmp_path / "x.txt") as handle:
            handle.write("x")
    finally:
        os.umask(umask)
    assert (tmp_path / "x.txt").stat().st_mode & 0o777 == 0o644


def test_write_tsv_float_format(tmp_path):
    df = pd.DataFrame({"mirna": ["b", "a"], "value": [1 / 3, 2.0]})
    write_tsv(df, tmp_path / "t.tsv")
    assert (tmp_path / "t.tsv").read_text() == "mirna\tvalue\nb\t0.333333\na\t2\n"
    assert read_tsv(tmp_path / "t.tsv").shape == (2, 2)
