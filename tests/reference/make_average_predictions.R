#!/usr/bin/env Rscript
# R reference for average predictions (counterfactual averages) with delta-method SEs.
#
# Run from the repository root:
#
#     Rscript tests/reference/make_average_predictions.R
#
# Reads tests/reference/data/panel.csv (see data/README.md), fits
#
#     MASS::glm.nb(y ~ x2 * cat + x1)                       (NB2, like design 1's
#                                                          ruling * C(fh_status) + controls)
#     glm(y ~ x2 * cat + x1 + offset(log(expo)), poisson)  (an exposure as well)
#
# with country-style clustered variances sandwich::vcovCL(cluster = ~g, type = "HC1")
# (cpcstats' CR1), and for every cell (x2 in 0/1) x (cat in A/B/C):
#
#   * the average prediction: set x2 and cat on EVERY row of the data, keep x1 (and
#     expo) as observed, mean(predict(m, newdata, type = "response")); its SE by the
#     delta method sqrt(g' V g) with g = colMeans(mu * X) (analytic) -- the numeric
#     gradient of the same average is computed too and its largest difference stored;
#   * for the NB2 only, the prediction at means: x1 at its sample mean, exposure 1,
#     exp(x'b) with SE exp(x'b) sqrt(x' V x).
#
# Writes tests/reference/fixtures/average_predictions.json, which
# tests/test_average_predictions.py compares with cpcstats.designs.ruling_regime.
# Needs MASS, sandwich and jsonlite.  Convergence: glm.control(epsilon = 1e-14).

suppressPackageStartupMessages({
  library(MASS)
  library(sandwich)
  library(jsonlite)
})

script_dir <- local({
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(file_arg) == 1L) {
    dirname(normalizePath(sub("^--file=", "", file_arg)))
  } else {
    file.path(getwd(), "tests", "reference")
  }
})
panel <- read.csv(file.path(script_dir, "data", "panel.csv"), stringsAsFactors = FALSE)
panel$cat <- factor(panel$cat, levels = c("A", "B", "C"))
out_path <- file.path(script_dir, "fixtures", "average_predictions.json")

ctrl <- glm.control(epsilon = 1e-14, maxit = 100)
models <- list(
  negbin = MASS::glm.nb(y ~ x2 * cat + x1, data = panel, control = ctrl),
  poisson = glm(y ~ x2 * cat + x1 + offset(log(expo)), family = poisson, data = panel,
                control = ctrl)
)

cell_values <- function(m, V, x2, cat, at_means) {
  nd <- panel
  nd$x2 <- x2
  nd$cat <- factor(cat, levels = levels(panel$cat))
  X <- model.matrix(delete.response(terms(m)), nd, xlev = m$xlevels)
  mu <- as.numeric(predict(m, newdata = nd, type = "response"))
  g <- colMeans(mu * X)
  # numeric gradient of the same average (central differences), as a check
  off <- if (is.null(m$offset)) 0 else log(nd$expo)
  avg_at <- function(b) mean(exp(as.numeric(X %*% b) + off))
  b0 <- coef(m)
  g_num <- sapply(seq_along(b0), function(j) {
    h <- 1e-6 * max(abs(b0[j]), 1)
    up <- b0; up[j] <- up[j] + h
    dn <- b0; dn[j] <- dn[j] - h
    (avg_at(up) - avg_at(dn)) / (2 * h)
  })
  out <- list(
    x2 = x2, cat = cat,
    average = mean(mu),
    se_average = sqrt(as.numeric(t(g) %*% V %*% g)),
    max_abs_grad_diff = max(abs(g - g_num))
  )
  if (at_means) {
    nd1 <- data.frame(x2 = x2, cat = factor(cat, levels = levels(panel$cat)),
                      x1 = mean(panel$x1))
    x1 <- model.matrix(delete.response(terms(m)), nd1, xlev = m$xlevels)
    mu1 <- exp(as.numeric(x1 %*% coef(m)))
    out$at_means <- mu1
    out$se_at_means <- mu1 * sqrt(as.numeric(x1 %*% V %*% t(x1)))
  }
  out
}

cases <- list()
for (name in names(models)) {
  m <- models[[name]]
  V <- sandwich::vcovCL(m, cluster = ~g, type = "HC1")
  cells <- list()
  for (x2 in c(0, 1)) for (cat in c("A", "B", "C")) {
    cells[[length(cells) + 1]] <- cell_values(m, V, x2, cat, at_means = name == "negbin")
  }
  cases[[name]] <- list(
    call = paste(deparse(m$call), collapse = " "),
    vcov_call = "sandwich::vcovCL(m, cluster = ~g, type = 'HC1')",
    coef = as.list(coef(m)),
    se_cl_g = as.list(sqrt(diag(V))),
    nobs = nrow(panel),
    x1_mean = mean(panel$x1),
    cells = cells
  )
}

meta <- list(
  r_version = R.version.string,
  mass = as.character(packageVersion("MASS")),
  sandwich = as.character(packageVersion("sandwich")),
  jsonlite = as.character(packageVersion("jsonlite")),
  data_md5 = unname(tools::md5sum(file.path(script_dir, "data", "panel.csv")))
)
writeLines(toJSON(list(meta = meta, cases = cases), auto_unbox = TRUE, digits = NA,
                  pretty = TRUE), out_path)
cat("wrote", out_path, "\n")
