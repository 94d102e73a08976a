# miRBase references of the species: hairpins (DNA), mature coordinates, checksums, bowtie index.


rule download_reference:
    output:
        reference=f"{REF}/downloads/{{filename}}",
    log:
        f"logs/download_reference/{SPECIES}/{{filename}}.log",
    wildcard_constraints:
        filename="|".join(REFERENCE_DOWNLOADS) if REFERENCE_DOWNLOADS else "no_download",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        url=lambda wildcards: get_reference_download(wildcards)[0],
        sha256=lambda wildcards: get_reference_download(wildcards)[1],
        retries=config["download"]["retries"],
        timeout=config["download"]["timeout"],
        min_rate=config["download"]["min_kb_per_s"] * 1000,
    script:
        "../scripts/download_reference.py"


rule prepare_references:
    input:
        unpack(get_reference_inputs),
    output:
        hairpin=f"{REF}/hairpin.fa",
        mature=f"{REF}/mature.tsv",
        checksums=f"{REF}/checksums.tsv",
    log:
        f"logs/prepare_references/{SPECIES}.log",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        species=SPECIES,
    script:
        "../scripts/prepare_references.py"


rule bowtie_index_hairpins:
    input:
        fasta=f"{REF}/hairpin.fa",
    output:
        multiext(f"{REF}/bowtie/hairpin", *BOWTIE_INDEX_SUFFIXES),
    log:
        f"logs/bowtie_index_hairpins/{SPECIES}.log",
    conda:
        "../envs/bowtie.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        prefix=lambda wildcards, output: output[0].removesuffix(
            BOWTIE_INDEX_SUFFIXES[0]
        ),
    shell:
        "bowtie-build --threads {threads} {input.fasta:q} {params.prefix:q} > {log:q} 2>&1"
