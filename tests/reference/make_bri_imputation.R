#!/usr/bin/env Rscript
# Independent R reference for cpcstats.methods.imputation and ETWFE's full-parameter
# delta method (helper "bri", issue 14).
#
# Run from the repository root, after
# `PYTHONPATH=. .venv/bin/python tests/reference/make_bri_imputation_data.py`:
#
#     Rscript tests/reference/make_bri_imputation.R
#
# Reads tests/reference/data/imputation_panel.csv, writes
# tests/reference/fixtures/bri_imputation.json.
#
# Imputation: glm(poisson) with factor unit and year effects on the untreated rows (never
# and not-yet treated), predict() on the treated rows, ATT = log(sum y / sum mu0) overall
# and by cohort, calendar year, event time and balanced event time (cohorts observed at
# every e in 0..4).  SEs: the stacked influence function built from sandwich::estfun and
# the glm's unscaled vcov (H^-1): for a group R, per unit c,
#   phi_c = sum_{R,c} (y - mu0 * r_cell) / A - s_c' H^-1 G / B,
# r_cell = sum y / sum mu0 of the row's cohort-year cell, A = sum_R y, B = sum_R mu0,
# G = sum_R mu0 * x; var = G/(G-1) sum_c phi_c^2.  The untreated-model part alone is
# the delta method with sandwich::vcovCL(type = "HC0", cadjust = TRUE): sqrt(G' V G) / B.
# ETWFE: glm(poisson) on all rows but the all-zero cells with one dummy per cohort-year
# cell and factor unit and year effects; log(sum mu1 / sum mu0) over the treated rows,
# SE by the delta method over all coefficients (fixed effects included) with vcovCL.
# Convergence: glm.control(epsilon = 1e-13, maxit = 200).

suppressPackageStartupMessages({
  library(sandwich)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)])))
raw <- read.csv(file.path(here, "data", "imputation_panel.csv"))
raw$g[is.na(raw$g)] <- 0
ctl <- glm.control(epsilon = 1e-13, maxit = 200)

sample_rows <- function(d) {
  d$treated <- d$g > 0 & d$t >= d$g
  d <- d[ave(d$y, d$unit, FUN = sum) > 0, ]
  d <- d[ave(ifelse(d$treated, 0, d$y), d$unit, FUN = sum) > 0, ]
  d[ave(ifelse(d$treated, 0, d$y), d$t, FUN = sum) > 0, ]
}

# unit dummies (all levels), year dummies (all but the first), covariates
design <- function(d, units, years, covariates, invariant) {
  X <- model.matrix(~ 0 + factor(unit, levels = units) + factor(t, levels = years), d)
  for (v in covariates) X <- cbind(X, d[[v]])
  for (v in invariant) for (yr in years[-1]) X <- cbind(X, d[[v]] * (d$t == yr))
  X
}

csum <- function(M, cl, levels) {
  out <- matrix(0, length(levels), ncol(M))
  r <- rowsum(M, cl)
  out[match(rownames(r), levels), ] <- r
  out
}

imputation <- function(d, covariates = character(), invariant = character()) {
  d <- sample_rows(d)
  unt <- d[!d$treated, ]
  tr <- d[d$treated, ]
  units <- unique(unt$unit)
  years <- sort(unique(unt$t))
  # point estimates: factor formula, predict() on the treated rows
  # time-invariant covariates get one slope per year but the first (the first is
  # absorbed by the unit effects; x:factor(t) would leave it numerically aliased)
  slopes <- character()
  for (v in invariant) for (yr in years[-1]) {
    nm <- paste0(v, "_", yr)
    unt[[nm]] <- unt[[v]] * (unt$t == yr)
    tr[[nm]] <- tr[[v]] * (tr$t == yr)
    slopes <- c(slopes, nm)
  }
  rhs <- c("factor(unit)", "factor(t)", covariates, slopes)
  f <- glm(as.formula(paste("y ~", paste(rhs, collapse = " + "))), poisson(), unt,
           control = ctl)
  mu0 <- suppressWarnings(predict(f, newdata = tr, type = "response"))
  # the same model with an explicit full-rank design for the influence function
  Xu <- design(unt, units, years, covariates, invariant)
  Xt <- design(tr, units, years, covariates, invariant)
  m <- glm(unt$y ~ 0 + Xu, poisson(), control = ctl)
  gap <- max(abs(exp(Xt %*% coef(m)) - mu0) / mu0)
  if (gap > 1e-7) stop("formula and matrix fits disagree: ", gap)
  e <- tr$t - tr$g
  bal <- sort(unique(tr$g[sapply(tr$g, function(g) all(0:4 %in% e[tr$g == g]))]))
  groups <- list(list(kind = "overall", label = 0, z = rep(TRUE, nrow(tr))))
  for (g in sort(unique(tr$g))) groups[[length(groups) + 1]] <- list(kind = "cohort", label = g, z = tr$g == g)
  for (s in sort(unique(tr$t))) groups[[length(groups) + 1]] <- list(kind = "calendar", label = s, z = tr$t == s)
  for (k in sort(unique(e))) groups[[length(groups) + 1]] <- list(kind = "event_time", label = k, z = e == k)
  for (k in 0:4) groups[[length(groups) + 1]] <- list(kind = "balanced", label = k, z = tr$g %in% bal & e == k)
  Z <- sapply(groups, function(x) as.numeric(x$z))
  cell <- paste(tr$g, tr$t)
  r_cell <- ave(tr$y, cell, FUN = sum) / ave(mu0, cell, FUN = sum)
  S <- csum(estfun(m), unt$unit, units)
  G <- t(Xt) %*% (Z * mu0)
  model_part <- S %*% (vcov(m) %*% G)
  resid <- csum(Z * (tr$y - mu0 * r_cell), tr$unit, units)
  A <- colSums(Z * tr$y)
  B <- colSums(Z * mu0)
  n <- colSums(Z)
  nc <- length(units)
  adj <- nc / (nc - 1)
  se_log <- sqrt(adj * colSums((sweep(resid, 2, A, "/") - sweep(model_part, 2, B, "/"))^2))
  se_att <- sqrt(adj * colSums(sweep(resid - model_part, 2, n, "/")^2))
  V <- vcovCL(m, cluster = unt$unit, type = "HC0", cadjust = TRUE)
  se_model <- sqrt(diag(t(G) %*% V %*% G)) / B
  rows <- lapply(seq_along(groups), function(k) list(
    kind = groups[[k]]$kind, label = groups[[k]]$label, n = n[k], sum_y = A[k],
    sum_mu0 = B[k], log_effect = log(A[k] / B[k]), log_effect_se = se_log[k],
    log_effect_se_model = se_model[k], att_count = (A[k] - B[k]) / n[k],
    att_count_se = se_att[k]))
  list(groups = rows, balanced_cohorts = bal, n_clusters = nc,
       call = deparse(formula(f)))
}

etwfe <- function(d) {
  d <- d[ave(d$y, d$unit, FUN = sum) > 0, ]
  d$treated <- d$g > 0 & d$t >= d$g
  cell <- ifelse(d$treated, paste0("g", d$g, "_y", d$t), "none")
  zero <- ave(d$y, cell, FUN = sum) == 0 & d$treated
  d <- d[!zero, ]
  cell <- cell[!zero]
  cells <- sort(unique(cell[cell != "none"]))
  C <- sapply(cells, function(k) as.numeric(cell == k))
  units <- unique(d$unit)
  years <- sort(unique(d$t))
  X <- cbind(C, model.matrix(~ 0 + factor(unit, levels = units) + factor(t, levels = years), d))
  m <- glm(d$y ~ 0 + X, poisson(), control = ctl)
  b <- coef(m)
  X0 <- X
  X0[, seq_along(cells)] <- 0
  tr <- d$treated
  mu1 <- exp(X %*% b)[tr]
  mu0 <- exp(X0 %*% b)[tr]
  V <- vcovCL(m, cluster = d$unit, type = "HC0", cadjust = TRUE)
  g_log <- colSums(X[tr, ] * mu1) / sum(mu1) - colSums(X0[tr, ] * mu0) / sum(mu0)
  g_att <- (colSums(X[tr, ] * mu1) - colSums(X0[tr, ] * mu0)) / sum(tr)
  list(log_effect = log(sum(mu1) / sum(mu0)), log_effect_se = sqrt(c(t(g_log) %*% V %*% g_log)),
       att_count = mean(mu1 - mu0), att_count_se = sqrt(c(t(g_att) %*% V %*% g_att)),
       n_cells = length(cells), nobs = nrow(d),
       dropped_zero_cell_rows = sum(zero))
}

out <- list(
  imputation = imputation(raw),
  imputation_covariates = imputation(raw, covariates = "w", invariant = "x"),
  etwfe_nonzero_cells = etwfe(raw),
  meta = list(R = R.version.string, sandwich = as.character(packageVersion("sandwich")),
              data_md5 = unname(tools::md5sum(file.path(here, "data", "imputation_panel.csv"))))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "fixtures", "bri_imputation.json"))
