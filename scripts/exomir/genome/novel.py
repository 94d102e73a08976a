"""Novel miRNA candidates, miRDeep2-like, step by step.

1. Read stacks: genome hits of all samples are pooled; reads sharing a 5' end (on the strand
   they map to) form a stack. Stacks are taken in order of read count; the dominant read of the
   top unused stack is the putative mature sequence.
2. Excision: two precursors around it, mature on the 5' arm (``flank`` nt upstream, ``arm`` nt
   downstream) or on the 3' arm (mirror image), as miRDeep2 excises both orientations.
3. Folding: ViennaRNA ``RNA.fold`` (minimum free energy, dot-bracket).
4. Checks: the mature lies in the stem (>= ``min_mature_pairs`` paired nt, all partners on the
   other arm); the star is predicted from the 2-nt 3' overhang rule (star 5' end pairs with
   mature nt -3 from its 3' end); star reads = reads whose 5' end is within 1 nt of it; 5'-end
   consistency = share of mature-arm reads starting exactly at the mature 5' end; reads outside
   both arms (loop/flank) are penalised.
5. Score = sum of the components (see :func:`score_components`); the better window is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import RNA

COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def revcomp(seq: str) -> str:
    """Reverse complement (DNA)."""
    return seq.translate(COMPLEMENT)[::-1]


@dataclass(frozen=True)
class NovelSettings:
    """Candidate discovery parameters (defaults follow miRDeep2's proportions)."""

    flank: int = 20
    arm: int = 60
    min_reads: int = 5
    min_mature_pairs: int = 14
    min_score: float = 5.0


def pair_table(structure: str) -> list[int]:
    """Partner index of each position of a dot-bracket string (-1 when unpaired)."""
    partners = [-1] * len(structure)
    stack: list[int] = []
    for i, char in enumerate(structure):
        if char == "(":
            stack.append(i)
        elif char == ")":
            j = stack.pop()
            partners[i], partners[j] = j, i
    return partners


def partner_near(partners: list[int], pos: int, reach: int = 3) -> int | None:
    """Partner of ``pos``, extrapolated from the nearest paired neighbour (antiparallel)."""
    for d in sorted(range(-reach, reach + 1), key=abs):
        q = pos + d
        if 0 <= q < len(partners) and partners[q] >= 0:
            return partners[q] + d
    return None


def oriented(hits: pd.DataFrame) -> pd.DataFrame:
    """Add oriented coordinates s <= e (5'->3' on the read's strand: minus strand negated)."""
    hits = hits.copy()
    minus = hits["strand"] == "-"
    hits["s"] = hits["start"].where(~minus, -hits["end"])
    hits["e"] = hits["end"].where(~minus, -hits["start"])
    return hits


def score_components(mfe_per_nt: float, in_stem: bool, star_reads: int, overhang_ok: bool,
                     five_prime: float, total_reads: int, outside: float) -> dict[str, float]:
    """Score components; weights hand-set (miRDeep2 proportions: star and structure dominate).

    structure 2 (mature in the stem) ; mfe 0..2 (linear from -0.20 to -0.35 kcal/mol/nt) ;
    star 2 (star reads at the 2-nt-overhang position) or 1 (star reads, overhang off) ;
    five_prime 0..2 (share with the dominant 5' end) ; reads 0..1.5 (0.5 * log10 reads) ;
    outside -3..0 (share of reads off both arms).
    """
    return {
        "score_structure": 2.0 if in_stem else 0.0,
        "score_mfe": round(min(max((-mfe_per_nt - 0.20) / 0.15, 0.0), 1.0) * 2.0, 3),
        "score_star": (2.0 if overhang_ok else 1.0) if star_reads > 0 else 0.0,
        "score_five_prime": round(2.0 * five_prime, 3),
        "score_reads": round(min(0.5 * math.log10(max(total_reads, 1)), 1.5), 3),
        "score_outside": round(-3.0 * outside, 3),
    }


def fetch(genome, chrom: str, strand: str, a: int, b: int) -> tuple[str, int, int]:
    """Oriented window [a, b] -> (sequence 5'->3', genomic start, end), 1-based, clipped."""
    length = genome.get_reference_length(chrom)
    lo, hi = (a, b) if strand == "+" else (-b, -a)
    lo, hi = max(lo, 1), min(hi, length)
    seq = genome.fetch(chrom, lo - 1, hi).upper()
    return (seq if strand == "+" else revcomp(seq)), lo, hi


def evaluate_window(reads: pd.DataFrame, seq: str, a: int, mature: tuple[int, int],
                    settings: NovelSettings) -> dict:
    """Fold one excised precursor and compute checks + score (``reads``: oriented, in window)."""
    structure, mfe = RNA.fold(seq.replace("T", "U"))
    partners = pair_table(structure)
    i, j = mature[0] - a, mature[1] - a
    mpart = [partners[p] for p in range(i, j + 1) if partners[p] >= 0]
    other_side = all(q > j for q in mpart) or all(q < i for q in mpart)
    in_stem = len(mpart) >= settings.min_mature_pairs and other_side
    k, l_end = partner_near(partners, j - 2), partner_near(partners, i)
    star = None
    if in_stem and k is not None and l_end is not None:
        star = (a + min(k, l_end + 2), a + max(k, l_end + 2))
    tot = reads["total"]
    on_mature = (reads["s"] >= mature[0] - 3) & (reads["s"] <= mature[0] + 3)
    star_mask = pd.Series(False, index=reads.index)
    overhang_ok = False
    if star is not None:
        star_mask = (reads["s"] >= star[0] - 3) & (reads["s"] <= star[0] + 3) & ~on_mature
        if star_mask.any():
            top = reads[star_mask].sort_values(["total", "s"], ascending=[False, True]).iloc[0]
            overhang_ok = abs(int(top["s"]) - star[0]) <= 1
    outside = tot[~on_mature & ~star_mask].sum() / max(tot.sum(), 1)
    five = tot[reads["s"] == mature[0]].sum() / max(tot[on_mature].sum(), 1)
    comps = score_components(mfe / len(seq), in_stem, int(tot[star_mask].sum()), overhang_ok,
                             five, int(tot.sum()), outside)
    return {"structure": structure, "mfe": round(mfe, 2), "star": star, "in_stem": in_stem,
            "overhang_ok": overhang_ok, "mature_mask": on_mature, "star_mask": star_mask,
            "five_prime_consistency": round(five, 4), "outside_share": round(outside, 4),
            **comps, "score": round(sum(comps.values()), 3)}


def find_candidates(hits: pd.DataFrame, genome, settings: NovelSettings) -> list[dict]:
    """Candidates from pooled oriented hits (columns of ``oriented`` + ``total`` + samples)."""
    found = []
    for (chrom, strand), group in hits.groupby(["chrom", "strand"], sort=True):
        group = group.sort_values("s")
        spans: list[tuple[int, int]] = []  # precursors already called: one candidate per locus
        stacks = group.groupby("s")["total"].sum().sort_values(ascending=False, kind="stable")
        for s5, stack_reads in stacks.items():
            if stack_reads < settings.min_reads or any(lo <= s5 <= hi for lo, hi in spans):
                continue
            top = group[group["s"] == s5].sort_values(["total", "e"], ascending=[False, True]).iloc[0]
            mature = (int(top["s"]), int(top["e"]))
            best = None
            for a, b in ((mature[0] - settings.flank, mature[1] + settings.arm),
                         (mature[0] - settings.arm, mature[1] + settings.flank)):
                seq, lo, hi = fetch(genome, chrom, strand, a, b)
                a = lo if strand == "+" else -hi
                window = group[(group["s"] >= a) & (group["e"] <= a + len(seq) - 1)]
                result = evaluate_window(window, seq, a, mature, settings)
                if best is None or result["score"] > best["score"]:
                    best = {**result, "window": window, "seq": seq, "a": a, "lo": lo, "hi": hi}
            spans.append((best["a"], best["a"] + len(best["seq"]) - 1))
            found.append({"chrom": chrom, "strand": strand, "mature": mature,
                          "mature_seq": top["sequence"], **best})
    return drop_overlapping(found)


def drop_overlapping(found: list[dict]) -> list[dict]:
    """One candidate per genomic locus: of precursors overlapping on either strand, keep the
    best-scoring (palindromic hairpins otherwise give a candidate on each strand)."""
    kept: list[dict] = []
    for cand in sorted(found, key=lambda c: (-c["score"], c["chrom"], c["lo"], c["strand"])):
        if not any(k["chrom"] == cand["chrom"] and k["lo"] <= cand["hi"] and cand["lo"] <= k["hi"] for k in kept):
            kept.append(cand)
    return kept


def genomic(strand: str, s: int, e: int) -> tuple[int, int]:
    """Oriented -> genomic 1-based (start, end)."""
    return (s, e) if strand == "+" else (-e, -s)


def kmer_index(fastas: dict[str, dict[str, str]], k: int = 18) -> dict[str, str]:
    """k-mer -> ``class:name`` of known sequences (both strands; first name in sorted order)."""
    index: dict[str, str] = {}
    for cls in sorted(fastas):
        for name in sorted(fastas[cls]):
            seq = fastas[cls][name].upper().replace("U", "T")
            for s in (seq, revcomp(seq)):
                for p in range(len(s) - k + 1):
                    index.setdefault(s[p : p + k], f"{cls}:{name}")
    return index


def overlap_status(seq: str, index: dict[str, str], k: int = 18) -> str:
    """Known sequences sharing a k-mer with ``seq`` (`;`-joined), empty when none."""
    hits = {index[seq[p : p + k]] for p in range(len(seq) - k + 1) if seq[p : p + k] in index}
    return ";".join(sorted(hits))


def candidate_row(cand: dict, samples: list[str], index: dict[str, str], settings: NovelSettings) -> dict:
    """One output row of a candidate (coordinates genomic, 1-based)."""
    strand, a, seq = cand["strand"], cand["a"], cand["seq"]
    m0, m1 = cand["mature"]
    window = cand["window"]
    star = cand["star"]
    star_seq = seq[star[0] - a : star[1] - a + 1] if star else ""
    mstart, mend = genomic(strand, m0, m1)
    overlaps = overlap_status(seq, index)
    if not cand["in_stem"]:
        call = "no_hairpin"
    elif overlaps:
        call = "known_" + overlaps.split(":", 1)[0]
    else:
        call = "novel" if cand["score"] >= settings.min_score else "below_cutoff"
    row = {
        "chrom": cand["chrom"], "start": cand["lo"], "end": cand["hi"], "strand": strand,
        "mature_start": mstart, "mature_end": mend,
        "arm": ("5p" if not star or m0 < star[0] else "3p"),
        "mature_sequence": cand["mature_seq"], "star_sequence": star_seq,
        "precursor_sequence": seq, "structure": cand["structure"], "mfe": cand["mfe"],
        "total_reads": int(window["total"].sum()),
        "mature_reads": int(window.loc[cand["mature_mask"], "total"].sum()),
        "star_reads": int(window.loc[cand["star_mask"], "total"].sum()),
        "five_prime_consistency": cand["five_prime_consistency"],
        "outside_share": cand["outside_share"], "overhang_ok": "yes" if cand["overhang_ok"] else "no",
        **{key: cand[key] for key in cand if key.startswith("score_")},
        "score": cand["score"], "overlaps": overlaps, "call": call,
    }
    for sample in samples:
        row[f"reads_{sample}"] = int(window.loc[cand["mature_mask"], sample].sum())
    return row


def read_fasta_dict(path: str) -> dict[str, str]:
    """Name (first word) -> sequence of a plain or gzip FASTA."""
    from exomir.io import iter_fasta

    return dict(iter_fasta(path))


def pool_hits(hit_files: list[str], samples: list[str]) -> pd.DataFrame:
    """One row per (sequence, locus) with per-sample read counts and ``total``, oriented."""
    frames = []
    for sample, path in zip(samples, hit_files):
        df = pd.read_csv(path, sep="\t", dtype={"sequence": str, "chrom": str})
        df["sample"] = sample
        frames.append(df)
    hits = pd.concat(frames, ignore_index=True)
    keys = ["sequence", "chrom", "strand", "start", "end"]
    wide = hits.pivot_table(index=keys, columns="sample", values="count", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=samples, fill_value=0).reset_index()
    wide.columns.name = None
    wide["total"] = wide[samples].sum(axis=1)
    return oriented(wide)


def discover(hit_files: list[str], samples: list[str], genome_fasta: str, known: dict[str, str],
             out_candidates: str, out_counts: str, settings: NovelSettings) -> pd.DataFrame:
    """Write the candidate table (all evaluated loci, with ``call``) and the novel count matrix.

    ``known``: class -> FASTA path (miRBase hairpins of the species, RNA-class libraries).
    """
    import pysam

    from exomir.io import write_tsv

    hits = pool_hits(hit_files, samples)
    index = kmer_index({cls: read_fasta_dict(path) for cls, path in known.items()})
    with pysam.FastaFile(genome_fasta) as genome:
        cands = find_candidates(hits, genome, settings) if len(hits) else []
    rows = [candidate_row(c, samples, index, settings) for c in cands]
    columns = ["id", *(rows[0].keys() if rows else [])]
    table = pd.DataFrame(rows)
    if rows:
        table.insert(0, "id", [f"novel_{r['chrom']}_{r['mature_start']}_{'p' if r['strand'] == '+' else 'm'}" for r in rows])
        table = table.sort_values(["chrom", "start", "strand", "mature_start"], kind="stable")
    table = table.reindex(columns=columns)
    write_tsv(table, out_candidates)
    novel = table[table["call"] == "novel"] if rows else table
    counts = novel[["id", *[f"reads_{s}" for s in samples]]] if rows else pd.DataFrame(columns=["id", *samples])
    counts.columns = ["novel", *samples]
    write_tsv(counts, out_counts)
    return table
