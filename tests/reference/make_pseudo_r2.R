#!/usr/bin/env Rscript
# R reference for the null (intercept-only) log-likelihoods ll0 and McFadden's pseudo-R².
#
# Run from the repository root:
#
#     Rscript tests/reference/make_pseudo_r2.R
#
# Reads the committed reference data sets (tests/reference/data/, see data/README.md):
# panel.csv (NB2 counts with an exposure and clusters with only zeros), zeros.csv (a ZINB
# process) and hurdle.csv (a hurdle-NB2 process).  For each family it fits the full model
# and the same family with an intercept only in every part (the offset kept):
#
#   poisson      glm(y ~ x1 + x2 + cat, poisson)          vs glm(y ~ 1, poisson)
#   poisson_expo ... + offset(log(expo))                  vs glm(y ~ 1 + offset(log(expo)))
#   negbin       MASS::glm.nb(y ~ x1 + x2 + cat)          vs MASS::glm.nb(y ~ 1)
#   negbin_expo  ... + offset(log(expo))                  vs glm.nb(y ~ 1 + offset(log(expo)))
#   fe_poisson   glm(y ~ x1 + x2 + factor(g) + factor(t)) vs glm(y ~ 1), both on panel_nz
#   fe_negbin    glm.nb(y ~ x1 + x2 + factor(g))          vs glm.nb(y ~ 1), both on panel_nz
#   zip / zinb   pscl::zeroinfl(y ~ x1 + x2 | z1, dist)    vs zeroinfl(y ~ 1 | 1, dist)
#   hurdle_*     pscl::hurdle(y ~ x1 + x2 | z1, dist)      vs hurdle(y ~ 1 | 1, dist)
#   hurdle_negbin_expo  hurdle(y ~ x1 + x2 + offset(log(expo)) | x1) on panel.csv
#                                                  vs hurdle(y ~ 1 + offset(log(expo)) | 1)
#
# panel_nz is panel.csv without the clusters g whose y is 0 in every period (what an FE
# fit drops, as fixest does).  For the FE families the null has no fixed effects: fixest's
# r2(m, "pr2") of fepois / fenegbin (not its "wpr2", against the FE-only model); fixest
# itself is not needed, its null is glm(y ~ 1) on the rows the FE fit kept.
#
# Writes tests/reference/fixtures/pseudo_r2.json (ll, ll0, pseudo_r2 = 1 - ll/ll0, nobs
# and the calls), which tests/test_pseudo_r2.py compares with cpcstats.
# Needs MASS, pscl and jsonlite.  Convergence: glm.control(epsilon = 1e-14) and
# optim reltol 1e-14 in pscl.

suppressPackageStartupMessages({
  library(MASS)
  library(pscl)
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
data_dir <- file.path(script_dir, "data")
read <- function(name) read.csv(file.path(data_dir, name), stringsAsFactors = FALSE)
panel <- read("panel.csv")
zeros <- read("zeros.csv")
hurdle_d <- read("hurdle.csv")
zero_clusters <- names(which(tapply(panel$y, panel$g, function(v) all(v == 0))))
panel_nz <- panel[!(panel$g %in% zero_clusters), ]

glm_ctl <- glm.control(epsilon = 1e-14, maxit = 100)
zi_ctl <- zeroinfl.control(reltol = 1e-14, maxit = 10000)
hu_ctl <- hurdle.control(reltol = 1e-14, maxit = 10000)

fits <- list(
  poisson = list(
    data = "panel", full = function(d) glm(y ~ x1 + x2 + cat, poisson, d, control = glm_ctl),
    null = function(d) glm(y ~ 1, poisson, d, control = glm_ctl)),
  poisson_expo = list(
    data = "panel",
    full = function(d) glm(y ~ x1 + x2 + cat + offset(log(expo)), poisson, d, control = glm_ctl),
    null = function(d) glm(y ~ 1 + offset(log(expo)), poisson, d, control = glm_ctl)),
  negbin = list(
    data = "panel", full = function(d) glm.nb(y ~ x1 + x2 + cat, d, control = glm_ctl),
    null = function(d) glm.nb(y ~ 1, d, control = glm_ctl)),
  negbin_expo = list(
    data = "panel",
    full = function(d) glm.nb(y ~ x1 + x2 + cat + offset(log(expo)), d, control = glm_ctl),
    null = function(d) glm.nb(y ~ 1 + offset(log(expo)), d, control = glm_ctl)),
  fe_poisson = list(
    data = "panel_nz",
    full = function(d) glm(y ~ x1 + x2 + factor(g) + factor(t), poisson, d, control = glm_ctl),
    null = function(d) glm(y ~ 1, poisson, d, control = glm_ctl)),
  fe_negbin = list(
    data = "panel_nz",
    full = function(d) glm.nb(y ~ x1 + x2 + factor(g), d, control = glm_ctl),
    null = function(d) glm.nb(y ~ 1, d, control = glm_ctl)),
  zip = list(
    data = "zeros",
    full = function(d) zeroinfl(y ~ x1 + x2 | z1, d, dist = "poisson", control = zi_ctl),
    null = function(d) zeroinfl(y ~ 1 | 1, d, dist = "poisson", control = zi_ctl)),
  zinb = list(
    data = "zeros",
    full = function(d) zeroinfl(y ~ x1 + x2 | z1, d, dist = "negbin", control = zi_ctl),
    null = function(d) zeroinfl(y ~ 1 | 1, d, dist = "negbin", control = zi_ctl)),
  hurdle_poisson = list(
    data = "hurdle",
    full = function(d) hurdle(y ~ x1 + x2 | z1, d, dist = "poisson", control = hu_ctl),
    null = function(d) hurdle(y ~ 1 | 1, d, dist = "poisson", control = hu_ctl)),
  hurdle_negbin = list(
    data = "hurdle",
    full = function(d) hurdle(y ~ x1 + x2 | z1, d, dist = "negbin", control = hu_ctl),
    null = function(d) hurdle(y ~ 1 | 1, d, dist = "negbin", control = hu_ctl)),
  hurdle_negbin_expo = list(
    data = "panel",
    full = function(d) hurdle(y ~ x1 + x2 + offset(log(expo)) | x1, d, dist = "negbin",
                              control = hu_ctl),
    null = function(d) hurdle(y ~ 1 + offset(log(expo)) | 1, d, dist = "negbin",
                              control = hu_ctl))
)
frames <- list(panel = panel, panel_nz = panel_nz, zeros = zeros, hurdle = hurdle_d)
call_text <- function(f) paste(trimws(deparse(body(f))), collapse = " ")

cases <- list()
for (name in names(fits)) {
  case <- fits[[name]]
  d <- frames[[case$data]]
  full <- case$full(d)
  null <- case$null(d)
  ll <- as.numeric(logLik(full))
  ll0 <- as.numeric(logLik(null))
  cases[[name]] <- list(
    data = case$data, nobs = nrow(d),
    full_call = call_text(case$full), null_call = call_text(case$null),
    loglik = ll, loglik_null = ll0, pseudo_r2 = 1 - ll / ll0
  )
}

md5 <- unname(tools::md5sum(file.path(data_dir, c("panel.csv", "zeros.csv", "hurdle.csv"))))
out <- list(
  meta = list(
    script = "tests/reference/make_pseudo_r2.R",
    R = R.version.string,
    MASS = as.character(packageVersion("MASS")),
    pscl = as.character(packageVersion("pscl")),
    data_md5 = as.list(setNames(md5, c("panel.csv", "zeros.csv", "hurdle.csv"))),
    zero_clusters = I(zero_clusters),
    definition = paste(
      "pseudo_r2 = 1 - loglik / loglik_null (McFadden); loglik_null: the same family,",
      "intercept only in every part, offset kept; FE families: no fixed effects",
      "(fixest pr2), on the rows the FE fit kept"
    )
  ),
  cases = cases
)
write_json(out, file.path(script_dir, "fixtures", "pseudo_r2.json"), auto_unbox = TRUE,
           digits = NA, pretty = TRUE)
cat("wrote", file.path(script_dir, "fixtures", "pseudo_r2.json"), "\n")
