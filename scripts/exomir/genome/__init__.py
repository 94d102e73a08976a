"""Genome mode (optional): genome mapping statistics and novel miRNA candidates.

Modules: ``mapping`` (bowtie 1 to a genome, multi-mapping statistics), ``novel`` (miRDeep2-like
candidate discovery: read stacks -> precursor excision -> ViennaRNA folding -> duplex checks ->
score), ``overlap`` (known hairpin / RNA-class overlap by shared k-mers), ``section`` (SVG/HTML
drawing for the report and MultiQC tables), ``testgenome`` (leave-out test genome generator).
"""
