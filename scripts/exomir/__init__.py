"""exomir: small RNA-seq of plasma exosomes to miRNA biomarker evidence.

The package holds the logic of every workflow stage; the Snakemake rule
scripts in ``workflow/scripts/`` are thin wrappers around its functions.
"""

__version__ = "0.1.0"
