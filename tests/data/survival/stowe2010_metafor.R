# Oracle for tests/survival/test_survival_nma.py: the Parkinson's disease network (Stowe et al. 2010),
# worked example 1 of Balduzzi et al., J Stat Softw 2023;106(2) (netmeta), computed independently with
# metafor's rma.mv (common effect; random effects with REML tau^2 for comparison).
# Run: Rscript stowe2010_metafor.R  (Debian: r-base-core r-cran-metafor r-cran-metadat)
suppressPackageStartupMessages({library(metafor); library(metadat)})
d <- dat.stowe2010
# arm-level CSV exactly as used by the tests
arms <- do.call(rbind, lapply(seq_len(nrow(d)), function(i) {
  r <- d[i, ]
  out <- data.frame(study = r$study, treatment = c(r$t1, r$t2, r$t3), mean = c(r$y1, r$y2, r$y3),
                    sd = c(r$sd1, r$sd2, r$sd3), n = c(r$n1, r$n2, r$n3))
  out[!is.na(out$n) & out$treatment != "", ]
}))
write.csv(arms, "stowe2010_arms.csv", row.names = FALSE, quote = TRUE)
# contrast-based: each arm against the study's first arm (k-1 independent contrasts per study), MD = mean_a - mean_b, V from the arm variances
pairs <- do.call(rbind, lapply(split(arms, factor(arms$study, levels = unique(arms$study))), function(s) {
  cmb <- rbind(rep(1, nrow(s) - 1), seq(2, nrow(s)))  # k-1 contrasts against the study's first arm
  data.frame(study = s$study[1], t1 = s$treatment[cmb[1, ]], t2 = s$treatment[cmb[2, ]],
             yi = s$mean[cmb[1, ]] - s$mean[cmb[2, ]],
             vi = s$sd[cmb[1, ]]^2 / s$n[cmb[1, ]] + s$sd[cmb[2, ]]^2 / s$n[cmb[2, ]],
             vc = s$sd[cmb[2, ]]^2 / s$n[cmb[2, ]], a = cmb[1, ], b = cmb[2, ])
}))
# block-diagonal V: two contrasts of one study share an arm's variance (+ or -)
V <- diag(pairs$vi)
arm_var <- function(s, k) { x <- arms[arms$study == s, ]; x$sd[k]^2 / x$n[k] }
for (i in seq_len(nrow(pairs))) for (j in seq_len(nrow(pairs))) if (i != j && pairs$study[i] == pairs$study[j]) {
  ai <- c(pairs$a[i], pairs$b[i]); aj <- c(pairs$a[j], pairs$b[j]); sgn <- c(1, -1)
  cv <- 0
  for (p in 1:2) for (q in 1:2) if (ai[p] == aj[q]) cv <- cv + sgn[p] * sgn[q] * arm_var(pairs$study[i], ai[p])
  V[i, j] <- cv
}
trts <- sort(unique(c(pairs$t1, pairs$t2)))
X <- sapply(trts, function(t) (pairs$t1 == t) - (pairs$t2 == t))
X <- X[, colnames(X) != "Placebo"]
ce <- rma.mv(pairs$yi, V, mods = X, intercept = FALSE)
re <- rma.mv(pairs$yi, V, mods = X, intercept = FALSE, random = ~ factor(paste(t1, t2)) | study,
             rho = 1/2, struct = "CS", data = pairs)
res <- list(
  common = setNames(lapply(seq_along(coef(ce)), function(i) c(est = unname(coef(ce)[i]), se = unname(ce$se[i]))),
                    sub("^", "", colnames(X))),
  common_QE = unname(ce$QE), common_QE_df = unname(ce$k - ce$p),
  random_reml_tau2 = unname(re$tau2),
  random_reml = setNames(lapply(seq_along(coef(re)), function(i) c(est = unname(coef(re)[i]), se = unname(re$se[i]))),
                         colnames(X)),
  software = paste("R", getRversion(), "metafor", packageVersion("metafor"), "metadat", packageVersion("metadat")))
# JSON by hand (jsonlite is not in Debian's minimal R): effects vs Placebo
fx <- function(l) paste(sprintf('    "%s": {"estimate": %.8f, "se": %.8f}', names(l),
                                sapply(l, `[`, "est"), sapply(l, `[`, "se")), collapse = ",\n")
json <- paste0('{\n  "reference": "Placebo",\n  "software": "', res$software, '",\n',
               '  "common": {\n', fx(res$common), '\n  },\n',
               sprintf('  "common_Q": %.6f,\n  "common_Q_df": %d,\n  "random_reml_tau2": %.8f,\n',
                       res$common_QE, res$common_QE_df, res$random_reml_tau2),
               '  "random_reml": {\n', fx(res$random_reml), '\n  }\n}\n')
writeLines(json, "stowe2010_metafor.json", sep = "")
cat(json)
