# Reference results of R DESeq2 for tests/test_diffexp.py (parity with pyDESeq2).
# Run from this folder: Rscript make_r_fixture.R
# Inputs: counts.tsv, samples.tsv. Outputs: r_size_factors.tsv,
# r_results_fit_parametric.tsv, r_results_fit_mean.tsv, r_session.txt. R is not needed to run the tests; they read these outputs.
suppressPackageStartupMessages(library(DESeq2))

counts <- as.matrix(read.delim("counts.tsv", row.names = 1, check.names = FALSE))
samples <- read.delim("samples.tsv", colClasses = "character")
rownames(samples) <- samples$sample
stopifnot(identical(colnames(counts), samples$sample))
# Reference level first, as exomir does with diffexp.reference_levels.
samples$condition <- factor(samples$condition, levels = c("healthy", "cancer"))

dds <- DESeqDataSetFromMatrix(counts, colData = samples, design = ~ condition)
# Same prefilter as exomir's default: >= 10 reads in >= (smallest group) samples.
smallest_group <- min(table(samples$condition))
dds <- dds[rowSums(counts(dds) >= 10) >= smallest_group, ]
fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.15g", x))
session <- c(
  paste("R", paste(R.version$major, R.version$minor, sep = ".")),
  paste("DESeq2", as.character(packageVersion("DESeq2"))),
  paste("rows_tested", nrow(dds))
)

# fit_type "parametric" is DESeq2's default (R substitutes a local regression
# when the parametric fit fails); "mean" is what pyDESeq2 substitutes instead.
for (fit_type in c("parametric", "mean")) {
  fitted <- DESeq(dds, fitType = fit_type, quiet = TRUE)  # minReplicatesForReplace 7
  res <- results(fitted, contrast = c("condition", "cancer", "healthy"), alpha = 0.1,
                 cooksCutoff = TRUE, independentFiltering = TRUE)
  if (fit_type == "parametric") {
    size_factors <- data.frame(sample = colnames(fitted), size_factor = fmt(sizeFactors(fitted)))
    write.table(size_factors, "r_size_factors.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
  }
  table_out <- data.frame(
    mirna = rownames(res),
    baseMean = fmt(res$baseMean),
    log2FoldChange = fmt(res$log2FoldChange),
    lfcSE = fmt(res$lfcSE),
    stat = fmt(res$stat),
    pvalue = fmt(res$pvalue),
    padj = fmt(res$padj),
    dispersion = fmt(dispersions(fitted)),
    replaced = as.integer(mcols(fitted)$replace %in% TRUE)
  )
  write.table(table_out, paste0("r_results_fit_", fit_type, ".tsv"), sep = "\t",
              quote = FALSE, row.names = FALSE)
  session <- c(session,
    paste0("fit_", fit_type, ": dispersion trend used = ",
           attr(dispersionFunction(fitted), "fitType"),
           "; independent filter threshold = ", fmt(metadata(res)$filterThreshold),
           "; padj < 0.1: ", sum(res$padj < 0.1, na.rm = TRUE),
           "; padj NA: ", sum(is.na(res$padj)),
           "; outlier-replaced rows: ", sum(mcols(fitted)$replace %in% TRUE)))
}
writeLines(session, "r_session.txt")
