"""Bowtie passes: 3'-trimmed re-alignment passes and the best hits per sequence.

Part of :mod:`exomir.quantify` (the module docstring there describes the method).
"""

from __future__ import annotations

import logging

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from exomir.errors import ExomirInputError
from exomir.quantify.assign import best_hits
from exomir.quantify.model import Hit, MatureArm, QuantifySettings

log = logging.getLogger("exomir.quantify")


def run_bowtie(
    index_prefix: str,
    fasta: str,
    out_hits: str,
    stderr_path: str,
    *,
    mismatches: int,
    trim3: int = 0,
    threads: int = 1,
) -> list[str]:
    """Run bowtie 1 on a FASTA of unique sequences; return the command run.

    Output is bowtie's default tabular format (name, strand, hairpin, 0-based
    offset, ...). Options: ``-f --norc -a --best --strata -v <mismatches>
    -3 <trim3> -p <threads>``; bowtie's summary goes to ``stderr_path``
    (MultiQC's bowtie1 module finds it by its ``# reads processed:`` line; its
    numbers are unique sequences of the first pass, not reads).
    """
    command = [
        "bowtie",
        "-f",
        "--norc",
        "-a",
        "--best",
        "--strata",
        "-v",
        str(mismatches),
        "-3",
        str(trim3),
        "-p",
        str(threads),
        "-x",
        index_prefix,
        fasta,
        out_hits,
    ]
    with open(stderr_path, "w", encoding="utf-8") as err:
        result = subprocess.run(command, stderr=err, stdout=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        message = Path(stderr_path).read_text(encoding="utf-8", errors="replace")[-2000:]
        raise ExomirInputError(
            f"bowtie failed (exit {result.returncode}): {message.strip()}",
            where=index_prefix,
            fix="check that the bowtie index was built by the workflow from its FASTA (hairpin.fa or the RNA-class library)",
        )
    return command


def write_pass_fasta(path: str, sequences: list[str], ranks: list[int]) -> None:
    """FASTA of ``sequences[rank - 1]`` for ``ranks``, with empty read names.

    Bowtie names a read without a name by its 0-based position in the file, so
    record ``i`` is ``ranks[i]`` (:func:`parse_bowtie_hits_by_position`): the file
    is a few C-level joins instead of one formatted name per sequence.
    """
    block = 200_000
    every = len(ranks) == len(sequences)  # pass 1 without short sequences: ranks 1..n
    with open(path, "w", encoding="ascii") as handle:
        for start in range(0, len(ranks), block):
            if every:
                chunk = sequences[start : start + block]
            else:
                chunk = [sequences[r - 1] for r in ranks[start : start + block]]
            handle.write(">\n" + "\n>\n".join(chunk) + "\n")


def parse_bowtie_hits_by_position(path: str, ranks: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Sequence rank -> [(hairpin, 0-based offset)] for a FASTA of :func:`write_pass_fasta`."""
    hits: dict[int, list[tuple[str, int]]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split("\t", 4)
            if fields[1] != "+":  # --norc: never happens, kept as a guard
                continue
            hits.setdefault(ranks[int(fields[0])], []).append((fields[2], int(fields[3])))
    return hits


#: Seed lengths of :func:`could_align_trimmed`: shorter seeds are in almost every hairpin, longer
#: ones add little selectivity.
SEED_MIN, SEED_MAX = 7, 12


def could_align_trimmed(
    sequences: list[str], ranks: list[int], hairpins: dict[str, str], settings: QuantifySettings
) -> list[int]:
    """The ``ranks`` whose sequence could align in a 3'-trimmed pass; the others never can.

    Exact pigeonhole filter, no approximation: an end-to-end alignment of a
    3'-trimmed sequence (``n - trim`` nt, ``trim <= max_3p_addition``) with at
    most ``m`` mismatches covers the first ``(m + 1) * k`` bases when
    ``k = (n - max_3p_addition) // (m + 1)``; these are ``m + 1`` disjoint
    ``k``-mers, so at least one equals a hairpin ``k``-mer exactly. A sequence
    none of whose seeds occurs in any hairpin is dropped; bowtie would find
    nothing for it in any trimmed pass. Sequences too short for seeds of
    ``SEED_MIN`` nt are kept. In plasma libraries this removes most non-miRNA
    sequences (about 70% of the unaligned ones of a 5M-read demo sample).
    """
    parts = settings.mismatches + 1
    by_length: dict[int, list[int]] = {}
    for rank in ranks:
        by_length.setdefault(len(sequences[rank - 1]), []).append(rank)
    kmers: dict[int, set[str]] = {}
    kept: list[int] = []
    for n, group in by_length.items():
        k = min(SEED_MAX, (n - settings.max_3p_addition) // parts)
        if k < SEED_MIN:
            kept.extend(group)
            continue
        if k not in kmers:
            kmers[k] = {
                hairpin[i : i + k]
                for hairpin in hairpins.values()
                for i in range(len(hairpin) - k + 1)
            }
        found = kmers[k]
        if parts == 2:  # the default (1 mismatch): two seeds, one C-level expression each
            kept += [r for r in group if (s := sequences[r - 1])[:k] in found or s[k : 2 * k] in found]
        else:
            seeds = range(0, parts * k, k)
            kept.extend(
                r for r in group if any(sequences[r - 1][j : j + k] in found for j in seeds)
            )
    kept.sort()
    return kept


def _bowtie_pass(
    trim3: int,
    pending: list[int],
    sequences: list[str],
    index_prefix: str,
    settings: QuantifySettings,
    bowtie_log: str,
    workdir: str,
) -> tuple[list[str], dict[int, list[tuple[str, int]]]]:
    """One bowtie pass over the ``pending`` ranks with ``trim3`` nt trimmed; (command, raw hits by rank)."""
    fasta = os.path.join(workdir, f"pass{trim3}.fa")
    write_pass_fasta(fasta, sequences, pending)
    out_hits = os.path.join(workdir, f"pass{trim3}.hits")
    stderr_path = bowtie_log if trim3 == 0 else os.path.join(workdir, f"pass{trim3}.log")
    command = run_bowtie(
        index_prefix,
        fasta,
        out_hits,
        stderr_path,
        mismatches=settings.mismatches,
        trim3=trim3,
        threads=settings.threads,
    )
    if trim3:
        log.info(
            "bowtie pass with %d nt trimmed at 3': %s",
            trim3,
            Path(stderr_path).read_text(encoding="utf-8").strip().replace("\n", " | "),
        )
    return command, parse_bowtie_hits_by_position(out_hits, pending)


def _update_best_hits(
    new_hits: dict[int, list[tuple[str, int]]],
    raw_hits: dict[int, list[tuple[str, int]]],
    results: dict[int, list[Hit]],
    sequences: list[str],
    hairpins: dict[str, str],
    arms: dict[str, list[MatureArm]],
    settings: QuantifySettings,
) -> None:
    """Add a pass's raw hits and recompute best hits of those ranks only (others cannot change)."""
    for rank, hits in new_hits.items():
        raw_hits.setdefault(rank, []).extend(hits)
        best = best_hits(sequences[rank - 1], raw_hits[rank], hairpins, arms, settings)
        if best:
            results[rank] = best


def _pass_ranks(
    sequences: list[str],
    unaligned: list[int],
    with_addition: list[int],
    min_pass_length: int,
    trim3: int,
    shortest: int,
) -> tuple[list[int], list[int], bool]:
    """The ranks one pass aligns: ``(unaligned kept, pending in rank order, short ones dropped)``.

    A pass trimming ``trim3`` nt only gets sequences of at least ``min_pass_length`` nt.
    """
    dropped_short = False
    if trim3 and shortest < min_pass_length:
        long_enough = [r for r in unaligned if len(sequences[r - 1]) >= min_pass_length]
        dropped_short = len(long_enough) < len(unaligned)
        unaligned = long_enough
    written_addition = [r for r in with_addition if len(sequences[r - 1]) >= min_pass_length]
    pending = sorted(unaligned + written_addition) if written_addition else unaligned
    return unaligned, pending, dropped_short


def _ranks_with_addition(
    with_addition: list[int],
    new_hits: dict[int, list[tuple[str, int]]],
    results: dict[int, list[Hit]],
    trim3: int,
) -> list[int]:
    """Aligned ranks whose best hit carries an addition longer than ``trim3`` (re-aligned next pass)."""
    return sorted(
        {r for r in with_addition if results[r][0].n_added > trim3}
        | {r for r in new_hits if r in results and results[r][0].n_added > trim3}
    )


def align_sequences(
    sequences: list[str],
    index_prefix: str,
    hairpins: dict[str, str],
    arms: dict[str, list[MatureArm]],
    settings: QuantifySettings,
    bowtie_log: str,
    workdir: str,
) -> tuple[dict[int, list[Hit]], list[list[str]]]:
    """Align unique sequences (rank = 1-based position) in passes; return best hits per rank.

    See the module docstring for the passes. Pass 1's bowtie summary is
    written to ``bowtie_log``; later passes' summaries go to the job log.
    Python work is limited to the sequences bowtie reports: best hits are
    (re)computed only for ranks that got new raw hits in a pass, and a pass with
    ``k`` nt trimmed only gets the sequences of at least ``min_length + k`` nt.
    """
    results: dict[int, list[Hit]] = {}
    raw_hits: dict[int, list[tuple[str, int]]] = {}
    commands: list[list[str]] = []
    min_length = settings.min_length
    # Still-unaligned ranks (in rank order) and aligned ranks whose best hit carries an
    # addition longer than the current trim (they are re-aligned too, see below).
    unaligned = [rank for rank, seq in enumerate(sequences, 1) if len(seq) >= min_length]
    with_addition: list[int] = []
    # Unaligned sequences too short for the current trim can never align, but they keep
    # later passes running (as in a plain "re-align everything unaligned" loop), so the
    # passes run, and the BAM header lists, do not depend on this shortcut.
    short_unaligned = never_align = False
    shortest = min(map(len, sequences), default=0)
    for trim3 in range(0, settings.max_3p_addition + 1):
        if (
            not unaligned
            and not with_addition
            and not short_unaligned
            and not never_align
            and trim3 > 0
        ):
            break  # pass 1 always runs, so its log always exists
        unaligned, pending, dropped_short = _pass_ranks(
            sequences, unaligned, with_addition, min_length + trim3, trim3, shortest
        )
        short_unaligned = short_unaligned or dropped_short
        command, new_hits = _bowtie_pass(trim3, pending, sequences, index_prefix, settings, bowtie_log, workdir)
        commands.append(command)
        _update_best_hits(new_hits, raw_hits, results, sequences, hairpins, arms, settings)
        # Bowtie's best stratum counts an addition's bases as mismatches, so loci where
        # the addition mismatches more bases are missed: re-align 3'-trimmed sequences
        # that carry an addition too, to collect every locus of equal rank.
        if new_hits:
            unaligned = [r for r in unaligned if r not in results]
        if trim3 == 0 and settings.max_3p_addition:
            # Sequences no trimmed pass can align are dropped from the passes; they still keep
            # the passes running, as in a plain "re-align everything unaligned" loop.
            candidates = could_align_trimmed(sequences, unaligned, hairpins, settings)
            never_align = never_align or len(candidates) < len(unaligned)
            unaligned = candidates
        with_addition = _ranks_with_addition(with_addition, new_hits, results, trim3)
    return results, commands
