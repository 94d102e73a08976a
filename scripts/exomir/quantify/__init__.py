"""miRNA quantification: align unique inserts to hairpins, assign them to mature arms.

Per sample, :func:`quantify_sample` reads ``preprocess/{sample}.collapsed.tsv.gz``
(unique insert sequences with their read counts) and works on unique
sequences only: bowtie sees each sequence once (unnamed FASTA records: bowtie
names them by position, which maps back to the rank), so time and memory grow
with the number of distinct inserts, not with the number of reads. Python work
is spent on the sequences bowtie aligns (in plasma libraries most unique
sequences are not miRNA): the unaligned ones are held as plain strings, passed
to the 3'-trimmed passes (only those long enough for the trim) and streamed to
``unmapped.fa.gz``; hits are re-scored only for sequences that got new bowtie
hits in a pass; the BAM is written in coordinate order directly (no sort pass).

Alignment (bowtie 1, ``--norc -a --best --strata -v <mismatches>``)
    Pass 1 aligns every sequence end to end with at most ``mismatches``
    (default 1) mismatches, reporting all hits of the best mismatch stratum.
    Non-templated 3' additions (mostly A/U) show up as mismatches at the
    3' end, so a sequence with two or three added nucleotides fails pass 1;
    passes 2..(1 + ``max_3p_addition``) re-align the still unaligned sequences
    with 1, 2, 3 nucleotides trimmed from the 3' end (bowtie ``-3 k``); so do
    sequences whose best hit so far carries an addition longer than the trim,
    which finds the other loci where the same addition fits. Unaligned
    sequences that no trimmed pass can align (exact seed test,
    :func:`could_align_trimmed`) are left out of those passes. Every
    hit is then re-scored on the full sequence against the hairpin
    (:func:`score_hit`): the non-templated addition is the longest 3' suffix
    of at most ``max_3p_addition`` (3) bases that starts at a mismatch (or a
    base past the hairpin end) and either mismatches in every base or is made
    of A/T only (mixed A/U tails whose later bases match the hairpin by
    chance, e.g. an added ``AU`` over a templated ``UU``); other mismatches
    are SNVs (at most ``mismatches``). So a substitution followed by
    template-matching bases is an SNV unless it starts an A/U tail. An added
    base that matches the hairpin right after the templated end is
    indistinguishable from a templated 3' extension and is called iso_3p (the
    accuracy truth is normalised the same way). Ambiguities left by design: a
    substitution in the very last base is called a 1-nt addition, and a
    substitution to A/T followed by templated A/Ts within the last 3 bases is
    called an A/U tail.

Choosing among hits
    Hits are ranked by (1) mismatches + added nucleotides, (2) on an annotated
    mature arm before off-arm, (3) |5' offset| from the arm's reference start,
    (4) |3' offset|; all hits sharing the best rank are kept ("best hits").
    A hit is on a mature arm when its start is within ``max_5p_shift`` (4) and
    its templated end within ``max_3p_shift`` (4) nucleotides of the arm's
    miRBase coordinates (the limits mirtop applies when it annotates isomiRs).

Features: mature names with one identical sequence are one row
    Mature miRNAs are counted per *feature*. A feature is one mature name,
    except for names that share one identical mature sequence (16 groups, 40
    human names in miRBase 22.1): their reads cannot be told apart, so they
    form ONE feature, counted once, in one row named by joining the names with
    ``/`` in name order, e.g. ``hsa-miR-199a-3p/hsa-miR-199b-3p``,
    ``hsa-miR-365a-3p/hsa-miR-365b-3p``, ``hsa-miR-518a-5p/hsa-miR-527``.
    ``mature.tsv`` gives each name's feature (column ``feature``; column
    ``same_sequence_as`` lists the other names of the group), so a catalogue
    name maps to its row (:func:`read_features`). The feature name is what
    the assignments (``mature``), the matrices (``mirna``), the isomiR table
    and the mirGFF3 ``Name`` carry.

Multi-mapping policy (status column of the assignments)
    * ``mature``: all best hits are on arms of one feature. Identical
      mature sequences from several loci (hsa-let-7a-5p on let-7a-1/2/3,
      hsa-miR-16-5p on mir-16-1/2) have one name and are counted once; so do
      the names of one feature (hsa-miR-199a-3p on mir-199a-1/2 and
      hsa-miR-199b-3p on mir-199b count once to
      ``hsa-miR-199a-3p/hsa-miR-199b-3p``).
    * ``ambiguous``: the best hits are on arms of different features, i.e. the
      sequence fits different mature sequences equally well (equal rank as
      defined above). The sequence is listed in the isomiR table and the
      assignments with all features ``;``-joined, and counted in no row of
      the mature matrix: nothing is ever double counted.
    * ``hairpin_only``: aligned, but no best hit on a mature arm.
    Hairpin matrix: a sequence counts to a hairpin only when all its best hits
    lie on that one hairpin (any status). Sequences whose best hits lie on
    several hairpins (let-7a-5p on let-7a-1/2/3) are not split or guessed:
    they are reported as ``multi_hairpin_reads`` in the stats. So the sum of
    every matrix column is at most the sample's reads.

Sequences better explained by another RNA class (plasma tRNA/rRNA fragments)
    Several miRBase entries lie within one mismatch of abundant tRNA or rRNA
    fragments (hsa-miR-4448 of tRNA-Pro-AGG, hsa-miR-1260a of tRNA-Leu-AAG,
    hsa-miR-7977 of tRNA-Gly-TCC, hsa-miR-4488 of 18S rRNA). In plasma, where
    tRNA and rRNA fragments are a large share of the reads, such fragments
    would otherwise be counted as those miRNAs. With ``rna_class_indexes``
    (the QC stage's tRNA/rRNA/snRNA libraries, config
    ``quantify.release_to_better_rna_class``), every aligned sequence is also
    aligned end to end to each RNA-class library (bowtie 1, ``--norc``,
    ``<= mismatches``); a sequence that a class explains with strictly fewer
    mismatches than its best hairpin hit has edits (SNVs + added bases) is
    released: it is treated as unaligned (not in the assignments, BAM or
    mirGFF3, written to ``unmapped.fa.gz``, so the QC composition counts it in
    its RNA class) and its reads are reported as ``rna_class_released_reads``
    (part of ``unmapped_reads``). On a tie the miRNA keeps the sequence, as in
    exceRpt and miRge, which give miRNAs priority.

Per-sample files
    ``assignments.tsv.gz``: one row per aligned unique sequence (columns
    :data:`ASSIGNMENT_COLUMNS`); ``start``/``end`` (1-based, ``end`` = last
    templated base, additions excluded), ``isomir_type`` and ``mismatches``
    describe the first best hit by hairpin name. ``unmapped.fa.gz``: sequences
    without a valid hit (``>u{rank}_x{count}``). BAM: one record per best hit
    (first primary, others secondary), 3' additions soft-clipped, tag ``XC`` =
    read count. ``bowtie.log``: bowtie's summary of pass 1 (unique sequences).

isomiR classification (miRTop v1.1 names; see :mod:`exomir.mirgff`)
    ``canonical``, else ``;``-joined ``iso_5p:<+/-N>`` (read start minus
    reference start), ``iso_3p:<+/-N>`` (templated end minus reference end),
    ``iso_add3p:<N>``, and one label per SNV class present
    (``iso_snv_seed`` positions 2-7, ``iso_snv_central_offset`` 8,
    ``iso_snv_central`` 9-12, ``iso_snv_central_supp`` 13-17, ``iso_snv``
    otherwise; 1-based positions in the read).

Modules, by concern: :mod:`~exomir.quantify.model` (settings and data classes),
:mod:`~exomir.quantify.inputs` (readers), :mod:`~exomir.quantify.align` (bowtie passes),
:mod:`~exomir.quantify.assign` (scoring, best hits, isomiR labels),
:mod:`~exomir.quantify.release` (release to RNA classes), :mod:`~exomir.quantify.outputs`
(BAM, unmapped FASTA, assignments and stats), :mod:`~exomir.quantify.sample` (rule
``quantify_sample``) and :mod:`~exomir.quantify.matrices` (rule ``quantify_matrices``).
The names below are re-exported so ``from exomir.quantify import ...`` keeps working.
"""

from __future__ import annotations

from exomir.quantify.align import (  # noqa: F401
    SEED_MAX,
    SEED_MIN,
    write_pass_fasta,
    align_sequences,
    could_align_trimmed,
    parse_bowtie_hits_by_position,
    run_bowtie,
)
from exomir.quantify.assign import (  # noqa: F401
    best_hits,
    find_arm,
    isomir_labels,
    score_hit,
)
from exomir.quantify.inputs import (  # noqa: F401
    _DNA_BYTES,
    _NOT_TAB_OR_NEWLINE,
    _read_collapsed_fast,
    _read_collapsed_table,
    read_arms,
    read_collapsed,
    read_collapsed_columns,
    read_features,
    read_hairpins,
)
from exomir.quantify.matrices import (  # noqa: F401
    _read_assignments,
    build_matrices,
)
from exomir.quantify.model import (  # noqa: F401
    ASSIGNMENT_COLUMNS,
    INTERMEDIATE_GZIP_LEVEL,
    STATS_COLUMNS,
    Assignment,
    Hit,
    MatureArm,
    QuantifySettings,
)
from exomir.quantify.outputs import (  # noqa: F401
    write_bam,
    write_unmapped,
)
from exomir.quantify.release import (  # noqa: F401
    release_better_rna_class,
)
from exomir.quantify.sample import (  # noqa: F401
    quantify_sample,
)

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "Assignment",
    "Hit",
    "INTERMEDIATE_GZIP_LEVEL",
    "MatureArm",
    "QuantifySettings",
    "SEED_MAX",
    "SEED_MIN",
    "STATS_COLUMNS",
    "_read_assignments",
    "align_sequences",
    "best_hits",
    "build_matrices",
    "could_align_trimmed",
    "find_arm",
    "isomir_labels",
    "parse_bowtie_hits_by_position",
    "quantify_sample",
    "read_arms",
    "read_collapsed",
    "read_collapsed_columns",
    "read_features",
    "read_hairpins",
    "release_better_rna_class",
    "run_bowtie",
    "score_hit",
]
