#!/usr/bin/env Rscript
# GEE with an AR(1) working correlation on a panel whose units have gaps in time.
#
# Writes tests/reference/data/gee_gaps.csv (the simulated panel) and
# tests/reference/fixtures/gee_gaps.json (geepack results), read by
# tests/test_robust_estimation.py.  Run from the repository root:
#     Rscript tests/reference/make_gee_gaps.R
#
# Why: an AR(1) working correlation must use the time distance, rho^|t - s|; a
# fit that takes the row order as time gives two years that are two apart
# (a gap left by a sample filter or a missing covariate) the correlation rho^1.
# geepack does it right when told the time: `waves = wave` (wave = year - 2000).
#
# Cases:
#   ar1       geeglm(..., corstr = "ar1", waves = wave): rho estimated by geepack.
#   fixed     geeglm(..., corstr = "fixed", zcor = rho0^|t - s|) at rho0 = 0.5: the
#             coefficients and variances at a given working correlation, whatever
#             estimator of rho is used.
#   ar1_rows  geeglm(..., corstr = "ar1") without waves: the row order taken as time
#             (what the wrong implementation does), to show that it differs.
#
# Data: 60 units x 2001-2012, x1 ~ N(0, 1) (6 decimals), x2 ~ Bernoulli(0.4),
# y ~ Poisson(exp(0.4 + 0.5 x1 - 0.4 x2 + u)) with u a per-unit AR(1) in calendar years
# (rho 0.6, sd 0.5); about 30% of the unit-years are then removed at random (units keep
# >= 3 years), so many consecutive rows of a unit are two or more years apart.
suppressPackageStartupMessages({
  library(geepack)
  library(jsonlite)
})

set.seed(20261201)
units <- 60
years <- 2001:2012
grid <- expand.grid(year = years, unit = seq_len(units))[, c("unit", "year")]
n <- nrow(grid)
# a unit-level AR(1) latent process in calendar time (rho = 0.6), so the true
# dependence really is a function of the year distance
u <- numeric(n)
for (i in seq_len(units)) {
  rows <- which(grid$unit == i)
  e <- rnorm(length(rows), 0, 0.5)
  u[rows[1]] <- e[1]
  for (k in 2:length(rows)) u[rows[k]] <- 0.6 * u[rows[k - 1]] + sqrt(1 - 0.36) * e[k]
}
grid$x1 <- round(rnorm(n), 6)
grid$x2 <- rbinom(n, 1, 0.4)
grid$y <- rpois(n, exp(0.4 + 0.5 * grid$x1 - 0.4 * grid$x2 + u))
# gaps: about 30% of unit-years removed at random; every unit keeps >= 3 years
keep <- runif(n) > 0.3
panel <- grid[keep, ]
panel <- panel[ave(panel$year, panel$unit, FUN = length) >= 3, ]
panel <- panel[order(panel$unit, panel$year), ]
rownames(panel) <- NULL
stopifnot(any(ave(panel$year, panel$unit, FUN = function(v) c(1, diff(v))) > 1))

dir.create("tests/reference/data", showWarnings = FALSE, recursive = TRUE)
dir.create("tests/reference/fixtures", showWarnings = FALSE, recursive = TRUE)
write.csv(panel, "tests/reference/data/gee_gaps.csv", row.names = FALSE)
panel <- read.csv("tests/reference/data/gee_gaps.csv")  # exactly what Python reads
# geepack indexes by wave: waves must be 1, 2, ... (year - 2000 keeps the distances)
panel$wave <- panel$year - min(years) + 1L

ctl <- geese.control(epsilon = 1e-12, maxit = 200)
vec <- function(x) as.list(setNames(unname(x), names(x)))
name_fix <- function(x) { names(x)[names(x) == "(Intercept)"] <- "Intercept"; x }
case <- function(m, call) {
  list(
    call = call,
    coef = vec(name_fix(coef(m))),
    se = vec(name_fix(setNames(sqrt(diag(m$geese$vbeta)), names(coef(m))))),
    se_model_based = vec(name_fix(setNames(sqrt(diag(m$geese$vbeta.naiv)), names(coef(m))))),
    scale = unname(m$geese$gamma),
    alpha = if (length(m$geese$alpha)) unname(m$geese$alpha) else NULL
  )
}

m_ar1 <- geeglm(y ~ x1 + x2, family = poisson, data = panel, id = unit, waves = wave,
                corstr = "ar1", control = ctl)
m_rows <- geeglm(y ~ x1 + x2, family = poisson, data = panel, id = unit,
                 corstr = "ar1", control = ctl)
rho0 <- 0.5
# "fixed": zcor holds one row per pair (j < k) of each unit, in geepack's pair order,
# with the working correlation rho0^|t_k - t_j|; waves are not passed, because geepack's
# "fixed" code indexes by wave up to the largest cluster size and crashes with gaps
zc <- unlist(lapply(split(panel$year, panel$unit), function(t) {
  out <- c()
  for (j in seq_along(t)) for (k in seq_along(t)) if (j < k) out <- c(out, rho0^abs(t[k] - t[j]))
  out
}))
m_fixed <- geeglm(y ~ x1 + x2, family = poisson, data = panel, id = unit,
                  corstr = "fixed", zcor = zc, control = ctl)
out <- list(
  meta = list(
    generator = "tests/reference/make_gee_gaps.R",
    R = R.version.string,
    geepack_version = as.character(packageVersion("geepack")),
    nobs = nrow(panel), n_units = length(unique(panel$unit)),
    data_md5 = unname(tools::md5sum("tests/reference/data/gee_gaps.csv")),
    definitions = paste(
      "se: geepack robust sandwich (san.se), no small-sample factor; se_model_based:",
      "naive variance; scale = sum(r^2)/N (Pearson residuals, no df correction);",
      "alpha: geepack's AR(1) parameter (ar1: rho^|wave_j - wave_k|).")
  ),
  cases = list(
    ar1 = case(m_ar1, "geeglm(y ~ x1 + x2, poisson, id = unit, waves = wave, corstr = 'ar1')"),
    ar1_rows = case(m_rows, "geeglm(y ~ x1 + x2, poisson, id = unit, corstr = 'ar1') (no waves)"),
    fixed = c(case(m_fixed, paste(
      "geeglm(y ~ x1 + x2, poisson, id = unit, corstr = 'fixed',",
      "zcor = 0.5^|t - s|)")), list(rho = rho0))
  )
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = I(17), pretty = TRUE),
           "tests/reference/fixtures/gee_gaps.json")
cat("wrote tests/reference/data/gee_gaps.csv and tests/reference/fixtures/gee_gaps.json\n")
