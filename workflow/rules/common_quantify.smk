# References and quantification: which miRBase files are used, and the quantify inputs.
# Included after common.smk (uses config, SPECIES, REF, SAMPLES).
import os

from exomir.references import bundled_paths  # noqa: E402

# Reference files: a verified download, else the user's files, else the bundled miRBase 22.1.
REFERENCE_DOWNLOADS = {}  # file name under {REF}/downloads -> (url, sha256)
_references = config["references"]
if _references["download"]["enabled"]:
    REFERENCE_SOURCES = {}
    for _role in ("mature", "hairpin", "gff3"):
        _url = _references["download"][f"{_role}_url"]
        _sha256 = _references["download"][f"{_role}_sha256"]
        if not _url:
            if _role == "gff3":
                REFERENCE_SOURCES[_role] = ""
                continue
            raise WorkflowError(
                f"config references.download: {_role}_url is empty. Fix: give the URL of the "
                f"miRBase {_role} file, or set references.download.enabled: false"
            )
        if not _sha256:
            raise WorkflowError(
                f"config references.download: {_role}_sha256 is empty, so the download of "
                f"{_url} cannot be verified. Fix: give its SHA-256 checksum"
            )
        _name = f"{_role}.gz" if _url.split("?")[0].endswith(".gz") else f"{_role}.txt"
        REFERENCE_DOWNLOADS[_name] = (_url, _sha256)
        REFERENCE_SOURCES[_role] = f"{REF}/downloads/{_name}"
    MIRGFF_SOURCE = f"miRBase (downloaded: {_references['download']['mature_url']})"
elif _references["mature_fasta"] or _references["hairpin_fasta"]:
    if not (_references["mature_fasta"] and _references["hairpin_fasta"]):
        raise WorkflowError(
            "config references: give both mature_fasta and hairpin_fasta (one is empty). "
            "Fix: set both, or leave both empty to use the bundled miRBase 22.1"
        )
    REFERENCE_SOURCES = {
        "mature": _references["mature_fasta"],
        "hairpin": _references["hairpin_fasta"],
        "gff3": _references["gff3"],
    }
    MIRGFF_SOURCE = f"miRBase (user files: {Path(_references['mature_fasta']).name})"
else:
    if _references["gff3"]:
        raise WorkflowError(
            "config references: gff3 is set but mature_fasta and hairpin_fasta are empty. "
            "Fix: give the miRBase FASTA files of the same release as the GFF3, or leave "
            "gff3 empty to use the bundled miRBase 22.1"
        )
    try:
        REFERENCE_SOURCES = bundled_paths(
            SPECIES,
            Path(str(workflow.current_basedir)).resolve().parents[1] / "resources",
        )
    except ExomirInputError as err:
        raise WorkflowError(str(err)) from None
    # Relative to the project root, like every other input path.
    REFERENCE_SOURCES = {
        role: os.path.relpath(path) if path else ""
        for role, path in REFERENCE_SOURCES.items()
    }
    MIRGFF_SOURCE = "miRBase22.1 doi:10.25504/fairsharing.hmgte8"

BOWTIE_INDEX_SUFFIXES = (
    ".1.ebwt",
    ".2.ebwt",
    ".3.ebwt",
    ".4.ebwt",
    ".rev.1.ebwt",
    ".rev.2.ebwt",
)


def get_reference_inputs(wildcards):
    """miRBase files of the species (mature, hairpin FASTA; GFF3 when one is used)."""
    inputs = {
        "mature": REFERENCE_SOURCES["mature"],
        "hairpin": REFERENCE_SOURCES["hairpin"],
    }
    if REFERENCE_SOURCES["gff3"]:
        inputs["gff3"] = REFERENCE_SOURCES["gff3"]
    return inputs


def get_reference_download(wildcards):
    """(url, sha256) of a reference file to download."""
    return REFERENCE_DOWNLOADS[wildcards.filename]


# What `rule all` requests for this stage.
QUANTIFY_OUTPUTS = [
    f"{REF}/checksums.tsv",
    *expand("results/quantify/{sample}.bam.bai", sample=SAMPLES),
    *expand("results/quantify/mirgff/{sample}.gff", sample=SAMPLES),
    *expand(
        "results/quantify/{table}.tsv",
        table=[
            "mature_counts",
            "hairpin_counts",
            "mature_rpm",
            "hairpin_rpm",
            "isomirs",
            "mapping_stats",
        ],
    ),
]
