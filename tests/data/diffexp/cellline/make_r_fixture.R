# Reference results of R DESeq2 for tests/test_diffexp_parity.py (parity at default settings).
# Run from this folder: Rscript make_r_fixture.R
# Inputs: counts.tsv, samples.tsv. For each matrix cancer_setN + healthy_set (N = 1, 2, 3)
# it runs R's default DESeq() + results(alpha = 0.1) on EVERY row of the matrix (no prefilter)
# and writes r_setN_results.tsv (every row) and r_setN_fit.tsv (one line per fit quantity).
# Set 1 is also run with the optional prefilter (>= 10 reads in >= smallest-group samples):
# r_set1_prefilter_results.tsv. R is not needed to run the tests; they read these outputs.
suppressPackageStartupMessages(library(DESeq2))

all_counts <- as.matrix(read.delim("counts.tsv", row.names = 1, check.names = FALSE))
all_samples <- read.delim("samples.tsv", colClasses = "character")
fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.10g", x))

run_one <- function(set, prefilter) {
  samples <- all_samples[all_samples$batch %in% c(set, "healthy_set"), ]
  rownames(samples) <- samples$sample
  counts <- all_counts[, samples$sample]
  samples$condition <- factor(samples$condition, levels = c("healthy", "cancer"))
  dds <- DESeqDataSetFromMatrix(counts, colData = samples, design = ~ condition)
  if (prefilter) {
    smallest_group <- min(table(samples$condition))
    dds <- dds[rowSums(counts(dds) >= 10) >= smallest_group, ]
  }
  fitted <- DESeq(dds, quiet = TRUE)
  res <- results(fitted, alpha = 0.1)
  out <- data.frame(
    mirna = rownames(res), baseMean = fmt(res$baseMean),
    log2FoldChange = fmt(res$log2FoldChange), lfcSE = fmt(res$lfcSE), stat = fmt(res$stat),
    pvalue = fmt(res$pvalue), padj = fmt(res$padj),
    dispersion_genewise = fmt(mcols(fitted)$dispGeneEst),
    dispersion_fitted = fmt(mcols(fitted)$dispFit),
    dispersion_final = fmt(dispersions(fitted)),
    replaced = as.integer(mcols(fitted)$replace %in% TRUE)
  )
  tag <- paste0("r_", sub("cancer_", "", set), if (prefilter) "_prefilter" else "")
  write.table(out, paste0(tag, "_results.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
  fun <- dispersionFunction(fitted)
  coefs <- attr(fun, "coefficients")
  fit <- data.frame(
    quantity = c("samples", "rows", "trend", "trend_asymptDisp", "trend_extraPois",
                 "disp_prior_var", "filter_threshold", "calls_padj_0.1", "padj_na",
                 paste0("size_factor_", colnames(fitted))),
    value = c(ncol(fitted), nrow(fitted), attr(fun, "fitType"),
              fmt(if (is.null(coefs)) NA else coefs[1]), fmt(if (is.null(coefs)) NA else coefs[2]),
              fmt(attr(fun, "dispPriorVar")), fmt(metadata(res)$filterThreshold),
              sum(res$padj < 0.1, na.rm = TRUE), sum(is.na(res$padj)), fmt(sizeFactors(fitted)))
  )
  write.table(fit, paste0(tag, "_fit.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
}

for (set in c("cancer_set1", "cancer_set2", "cancer_set3")) run_one(set, FALSE)
run_one("cancer_set1", TRUE)
writeLines(c(paste("R", paste(R.version$major, R.version$minor, sep = ".")),
             paste("DESeq2", as.character(packageVersion("DESeq2")))), "r_session.txt")

# Trend inputs before the Cook's refit (set 1): baseMean and gene-wise dispersions of the
# non-zero rows, and R's parametric trend on them (r_set1_trend_input.tsv, r_set1_trend.tsv).
s1 <- all_samples[all_samples$batch %in% c("cancer_set1", "healthy_set"), ]
s1$condition <- factor(s1$condition, levels = c("healthy", "cancer"))
d1 <- estimateDispersionsGeneEst(estimateSizeFactors(
  DESeqDataSetFromMatrix(all_counts[, s1$sample], colData = s1, design = ~ condition)), quiet = TRUE)
nz <- !mcols(d1)$allZero
write.table(data.frame(mirna = rownames(d1)[nz], baseMean = fmt(mcols(d1)$baseMean[nz]),
                       dispersion_genewise = fmt(mcols(d1)$dispGeneEst[nz])),
            "r_set1_trend_input.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
coefs <- attr(dispersionFunction(estimateDispersionsFit(d1, quiet = TRUE)), "coefficients")
write.table(data.frame(quantity = names(coefs), value = sprintf("%.15g", coefs)), "r_set1_trend.tsv",
            sep = "\t", quote = FALSE, row.names = FALSE)
