"""Per-sample output files: the BAM of best hits, the unmapped FASTA and the assignments table.

Part of :mod:`exomir.quantify` (the module docstring there describes the method).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exomir.io import atomic_open, atomic_path
from exomir.mirgff import GffRecord, mirtop_cigar
from exomir.quantify.assign import isomir_labels
from exomir.quantify.model import ASSIGNMENT_COLUMNS, INTERMEDIATE_GZIP_LEVEL, Assignment, Hit, status_of


def _bam_header(header_hairpins: dict[str, str], commands: list[list[str]], sample: str) -> dict:
    """The BAM header: one @SQ a hairpin, the sample's read group, one @PG a bowtie pass."""
    return {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": name, "LN": len(seq)} for name, seq in header_hairpins.items()],
        "RG": [{"ID": sample, "SM": sample}],
        "PG": [
            {
                "ID": f"bowtie.pass{i}",
                "PN": "bowtie",
                "CL": " ".join(c[:-4] + ["-x", "<index>", "<fasta>", "<out>"]),
            }
            for i, c in enumerate(commands)
        ],
        "CO": [
            "Records are unique sequences named s<rank>_x<count>; tag XC = read count, "
            "NH = number of best hits, XS = exomir status, XM = mature feature(s); "
            "soft clips are non-templated 3' additions."
        ],
    }


# The record loop stays inline: it is the hot path (profiled in benchmarks/README.md).
def write_bam(
    header_hairpins: dict[str, str],
    assignments: list[tuple[int, Assignment]],
    out_bam: str,
    commands: list[list[str]],
    sample: str,
) -> None:
    """Write a coordinate-sorted, indexed BAM: one record per best hit, counts carried.

    Records are ordered by (hairpin, start), ties in rank then hit order (what a
    stable coordinate sort of the rank-ordered records gives), and written in
    that order: no separate sort pass.
    """
    import pysam

    header = _bam_header(header_hairpins, commands, sample)
    ref_ids = {name: i for i, name in enumerate(header_hairpins)}
    order = sorted(
        (ref_ids[hit.hairpin], hit.start, position, i)
        for position, (_rank, assignment) in enumerate(assignments)
        for i, hit in enumerate(assignment.hits)
    )
    # Records are built from SAM text (htslib parses it, choosing the same integer tag
    # types as setting the fields one by one, 8x faster); per-sequence fields once.
    shared: dict[int, tuple[str, str]] = {}
    with atomic_path(out_bam) as tmp_bam:
        with pysam.AlignmentFile(str(tmp_bam), "wb", header=header) as bam:
            bam_header = bam.header
            # bound once: two attribute lookups fewer per record
            from_sam, write = pysam.AlignedSegment.fromstring, bam.write
            for _ref_id, start, position, i in order:
                rank, assignment = assignments[position]
                hit = assignment.hits[i]
                if position not in shared:
                    matures = assignment.matures  # once: Assignment.status would sort them again
                    names = ";".join(matures)
                    n_hits = len(assignment.hits)
                    shared[position] = (
                        f"s{rank}_x{assignment.count}",
                        f"NH:i:{n_hits}\tXC:i:{assignment.count}\tXS:Z:{status_of(matures)}"
                        f"\tRG:Z:{sample}" + (f"\tXM:Z:{names}" if names else ""),
                    )
                query_name, tags = shared[position]
                sequence = assignment.sequence
                templated = len(sequence) - hit.n_added
                cigar = f"{templated}M" + (f"{hit.n_added}S" if hit.n_added else "")
                line = (
                    f"{query_name}\t{0 if i == 0 else 256}\t{hit.hairpin}\t{start}\t"
                    f"{255 if len(assignment.hits) == 1 else 0}\t{cigar}\t*\t0\t0\t{sequence}\t*\t"
                    f"NM:i:{len(hit.snv_positions)}\t{tags}"
                )
                write(from_sam(line, bam_header))
    pysam.index(str(out_bam))


def write_unmapped(
    path: str, sequences: list[str], counts: list[int], aligned: dict[int, list[Hit]]
) -> None:
    """``unmapped.fa.gz``: sequences without a valid hit, ``>u{rank}_x{count}``, in rank order."""
    block = 100_000
    entry = ">u{}_x{}\n{}\n".format
    unmapped_rank = 0
    with atomic_open(path, "wt", compresslevel=INTERMEDIATE_GZIP_LEVEL) as handle:
        for start in range(0, len(sequences), block):
            ranks = [
                r
                for r in range(start + 1, min(start + block, len(sequences)) + 1)
                if r not in aligned
            ]
            numbers = range(unmapped_rank + 1, unmapped_rank + len(ranks) + 1)
            unmapped_rank += len(ranks)
            handle.write(
                "".join(
                    map(
                        entry,
                        numbers,
                        [counts[r - 1] for r in ranks],
                        [sequences[r - 1] for r in ranks],
                    )
                )
            )


@dataclass
class AssignmentTally:
    """Per-sample totals gathered while the assignments are written."""

    aligned_reads: int = 0
    multi_hairpin_reads: int = 0
    reads_by_status: dict[str, int] = field(default_factory=lambda: {"mature": 0, "hairpin_only": 0, "ambiguous": 0})
    detected: set[str] = field(default_factory=set)
    gff_records: list[GffRecord] = field(default_factory=list)


def _add_gff_records(
    gff_records: list[GffRecord],
    a: Assignment,
    matures: list[str],
    labels: list[str] | None,
    status: str,
    hairpins: dict[str, str],
) -> None:
    """Append one mirGFF3 record per mature name of ``a`` (on its first hit on that name).

    ``matures``: ``a.matures`` (computed once by the caller); ``labels``: the isomiR labels of
    ``a``'s first hit (reused when that hit is the name's).
    """
    first = a.hits[0]
    hits = a.hits
    for name in matures:
        on_name = [h for h in hits if h.arm is not None and h.arm.feature == name] if len(hits) > 1 else hits
        hit = on_name[0]
        name_labels = labels if hit is first else isomir_labels(a.sequence, hit)
        reference = hairpins[hit.hairpin][hit.start - 1 : hit.start - 1 + len(a.sequence)]
        gff_records.append(
            GffRecord(
                hairpin=hit.hairpin,
                start=hit.start,
                end=hit.start + len(a.sequence) - 1,
                read=a.sequence,
                mature=name,
                variant=",".join(name_labels) if name_labels else "NA",
                cigar=mirtop_cigar(a.sequence, reference, hit.n_added),
                expression=a.count,
                hits=len({h.hairpin for h in on_name}),
                filter="Pass" if status == "mature" else "REJECT:ambiguous",
            )
        )


def write_assignments(
    aligned: list[tuple[int, Assignment]],
    hairpins: dict[str, str],
    out_assignments: str,
    evidence: dict[int, str] | None = None,
) -> AssignmentTally:
    """Write ``{sample}.assignments.tsv.gz`` (rank order) and tally reads, miRNAs and mirGFF3 records."""
    tally = AssignmentTally()
    gff_records = tally.gff_records
    reads_by_status = tally.reads_by_status
    detected = tally.detected
    with atomic_open(out_assignments, "wt", compresslevel=INTERMEDIATE_GZIP_LEVEL) as handle:
        handle.write("\t".join(ASSIGNMENT_COLUMNS) + "\n")
        lines: list[str] = []
        evidence = evidence or {}
        for rank, a in aligned:
            first = a.hits[0]
            matures = a.matures
            status = status_of(matures)
            hairpin_names = a.hairpins
            labels = None
            if first.arm is not None:
                labels = isomir_labels(a.sequence, first)
                isomir_type = ";".join(labels) if labels else "canonical"
            else:
                isomir_type = ""
            lines.append(
                f"{a.sequence}\t{a.count}\t{';'.join(hairpin_names)}\t{';'.join(matures)}\t"
                f"{status}\t{isomir_type}\t{first.start}\t{first.templated_end}\t"
                f"{len(first.snv_positions)}\t{evidence.get(rank, '')}\n"
            )
            if len(lines) >= 100_000:
                handle.write("".join(lines))
                lines.clear()
            tally.aligned_reads += a.count
            reads_by_status[status] += a.count
            if status == "mature":
                detected.add(matures[0])
            if len(hairpin_names) > 1:
                tally.multi_hairpin_reads += a.count
            if matures:
                _add_gff_records(gff_records, a, matures, labels, status, hairpins)
        handle.write("".join(lines))
    return tally
