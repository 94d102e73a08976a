"""UMI extraction and deduplication for kits whose UMI sits after the 3' adapter (QIAseq).

QIAseq read 1 is ``insert + AACTGTAGGCACCATCAAT + UMI(12) + AGATCGGAAG...``.
The UMI can only be found while the adapter is still in the read, so exomir
lets cutadapt trim the whole layout as one 3' adapter
(``AACTGTAGGCACCATCAAT`` + 12 ``N`` wildcards + ``AGATCGGAAG``, no indels) and
write the part it matched into the read name (``--rename '{match_sequence}'``).
The UMI is then the 12 nt after the first 19 of that match: one cutadapt pass,
no second pass over the reads in Python.

A read has a UMI when the match covers the adapter start and the complete UMI
(>= 19 + 12 nt) and the UMI has only A/C/G/T. Other reads (no adapter, adapter
cut off by the end of the read, N in the UMI) are counted and dropped.

Deduplication keeps one read per distinct (insert, UMI) pair. Pairs are stored
as 64-bit integers (insert number << 24 | 2-bit coded UMI), so 20 million UMI
reads need about 160 MB instead of several GB of Python strings. UMIs are
decoded per batch of reads with numpy.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Sequence

import numpy as np

from exomir.kits import UmiLayout

#: byte -> 2-bit code of A/C/G/T; 255 for anything else (N, lower case, ...).
_CODE = np.full(256, 255, dtype=np.uint8)
for _code, _base in enumerate(b"ACGT"):
    _CODE[_base] = _code

#: Merge the pending keys into the unique set when this many are waiting.
_FLUSH = 2_000_000


@dataclasses.dataclass
class UmiCounts:
    """UMI bookkeeping of one sample."""

    reads: int = 0  # reads seen (written by cutadapt)
    umi_reads: int = 0  # reads with a complete, N-free UMI
    no_layout: int = 0  # adapter + UMI not found
    n_in_umi: int = 0  # layout found but the UMI has a non-ACGT base


class UmiDeduplicator:
    """Collect (insert, UMI) pairs chunk by chunk; return deduplicated insert counts."""

    def __init__(self, layout: UmiLayout):
        if layout.length > 24:
            raise ValueError("UMIs longer than 24 nt are not supported")
        self.layout = layout
        self.start = len(layout.before)
        self.end = self.start + layout.length
        self.shift = 2 * layout.length
        self._powers = (4 ** np.arange(layout.length - 1, -1, -1)).astype(np.int64)
        self.ids: dict[bytes, int] = {}
        self.counts = UmiCounts()
        self._pending: list[np.ndarray] = []
        self._pending_size = 0
        self._unique = np.empty(0, dtype=np.int64)

    def add(self, matches: Sequence[bytes], inserts: Sequence[bytes], offset: int = 0) -> None:
        """Add reads: ``matches[i][offset:]`` is the adapter match (read name), ``inserts[i]`` the insert.

        ``offset`` = 1 skips the ``>`` of FASTA header lines without copying them.

        UMIs are decoded for the whole batch at once with numpy; the only per-read
        Python work is slicing the UMI and numbering the insert.
        """
        n = len(inserts)
        counts = self.counts
        counts.reads += n
        if n == 0:
            return
        start, end = self.start + offset, self.end + offset
        lengths = np.fromiter(map(len, matches), dtype=np.int64, count=n)
        with_layout = np.flatnonzero(lengths >= end)
        counts.no_layout += n - with_layout.size
        if with_layout.size == 0:
            return
        umi_bytes = b"".join([matches[i][start:end] for i in with_layout.tolist()])
        codes = _CODE[np.frombuffer(umi_bytes, dtype=np.uint8)].reshape(-1, self.layout.length)
        valid = (codes < 4).all(axis=1)
        counts.n_in_umi += int(valid.size - valid.sum())
        umis = codes[valid].astype(np.int64) @ self._powers
        ids = self.ids
        setdefault = ids.setdefault
        # setdefault(seq, len(ids)) numbers a new insert with the next free number
        numbers = np.fromiter(
            (setdefault(inserts[i], len(ids)) for i in with_layout[valid].tolist()),
            dtype=np.int64,
            count=umis.size,
        )
        self._pending.append((numbers << self.shift) | umis)
        self._pending_size += umis.size
        counts.umi_reads = counts.reads - counts.no_layout - counts.n_in_umi
        if self._pending_size >= _FLUSH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._unique = np.unique(np.concatenate([self._unique, *self._pending]))
            self._pending.clear()
            self._pending_size = 0

    def result(self) -> Counter:
        """Deduplicated reads per insert (one per distinct UMI)."""
        self._flush()
        per_insert = np.bincount(self._unique >> self.shift, minlength=len(self.ids))
        inserts = list(self.ids)  # dict order = insert number
        return Counter({inserts[i]: int(n) for i, n in enumerate(per_insert) if n})

    @property
    def deduplicated_reads(self) -> int:
        """Distinct (insert, UMI) pairs (call after :meth:`result`)."""
        self._flush()
        return int(self._unique.size)
