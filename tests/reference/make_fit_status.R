#!/usr/bin/env Rscript
# What R returns for the boundary fits of the demo (issue 15, "failed and boundary
# fits are not results"): pscl::zeroinfl and pscl::hurdle(dist = "negbin") on the demo's
# party-year panel, fitted with the formulas of models/robustness.toml and
# models/families.toml, plus MASS::glm.nb as the well-behaved control.
#
# Run from the repository root (needs the project's virtualenv for the data):
#     Rscript tests/reference/make_fit_status.R
#
# Setup: the demo panel is SIMULATED and rebuilt by cpcstats from its embedded study, so
# it is written to a temporary CSV by `.venv/bin/python -c ...` (not committed).  Two
# small constructed data sets (below) are written to tests/reference/data/.  Writes
# tests/reference/fixtures/fit_status.json, read by
# tests/test_fit_status.py: per case theta, its SE, the largest |coefficient| and SE, how
# many SEs are NaN, the warnings R gave, optim's convergence code, and the eigenvalues of
# the inverse of R's variance matrix (its information), smallest and largest.
#
# Debian packages: r-base-core r-cran-mass r-cran-pscl r-cran-jsonlite
suppressPackageStartupMessages({
  library(MASS)
  library(pscl)
  library(jsonlite)
})

csv <- tempfile(fileext = ".csv")
py <- paste0(
  "import cpcstats; p = cpcstats.party_year(cpcstats.load_study('demo')); ",
  "p.data[['contacts','ruling','fh_status','left_roots','lr_position','xi_era',",
  "'bri_member','recognizes_prc','polyarchy']].to_csv('", csv, "', index=False)"
)
stopifnot(system2(".venv/bin/python", c("-c", shQuote(py))) == 0)
d <- read.csv(csv)
d$fh_status <- factor(d$fh_status)  # levels sorted, as patsy's C()

rhs_rob <- "ruling * fh_status + left_roots + lr_position + xi_era + bri_member + recognizes_prc"
rhs_fam <- "ruling + fh_status + left_roots + xi_era"
cases <- list(
  rob_negbin = list(fun = "glm.nb", f = paste("contacts ~", rhs_rob)),
  rob_zinb = list(fun = "zeroinfl", f = paste("contacts ~", rhs_rob, "| ruling + polyarchy + left_roots")),
  rob_hurdle_negbin = list(fun = "hurdle", f = paste("contacts ~", rhs_rob, "|", rhs_rob)),
  fam_zinb = list(fun = "zeroinfl", f = paste("contacts ~", rhs_fam, "| ruling + polyarchy")),
  fam_hurdle_negbin = list(fun = "hurdle", f = paste("contacts ~", rhs_fam, "|", rhs_fam))
)

fit_case <- function(case) {
  seen <- character(0)
  m <- withCallingHandlers(
    switch(case$fun,
      glm.nb = glm.nb(as.formula(case$f), data = d),
      zeroinfl = zeroinfl(as.formula(case$f), data = d, dist = "negbin"),
      hurdle = hurdle(as.formula(case$f), data = d, dist = "negbin", zero.dist = "binomial")
    ),
    warning = function(w) {
      seen <<- c(seen, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  s <- summary(m)
  cf <- if (case$fun == "glm.nb") s$coefficients else do.call(rbind, s$coefficients)
  v <- vcov(m)
  info_eig <- tryCatch(eigen(solve(v), symmetric = TRUE, only.values = TRUE)$values,
                       error = function(e) NA_real_)
  theta_se <- if (case$fun == "glm.nb") m$SE.theta else {
    if (is.null(m$SE.logtheta)) NA_real_ else unname(m$SE.logtheta * m$theta)
  }
  list(
    call = case$f, fun = case$fun,
    theta = unname(m$theta), theta_se = unname(theta_se),
    alpha = 1 / unname(m$theta),
    loglik = as.numeric(logLik(m)),
    converged = if (case$fun == "glm.nb") m$converged else m$converged,
    optim_code = if (is.null(m$optim)) NA else
      unlist(lapply(if (is.null(m$optim[["count", exact = TRUE]])) list(m$optim) else m$optim,
                    function(o) o[["convergence", exact = TRUE]])),
    n_se_nan = sum(!is.finite(cf[, 2])),
    max_abs_estimate = max(abs(cf[, 1])),
    term_max_abs_estimate = rownames(cf)[which.max(abs(cf[, 1]))],
    max_se = if (all(is.na(cf[, 2]))) NA_real_ else max(cf[, 2], na.rm = TRUE),
    term_max_se = if (all(is.na(cf[, 2]))) NA_character_ else rownames(cf)[which.max(cf[, 2])],
    estimates = as.list(setNames(cf[, 1], rownames(cf))),
    std_errors = as.list(setNames(cf[, 2], rownames(cf))),
    info_eigen_min = min(info_eig), info_eigen_max = max(info_eig),
    warnings = unique(seen)
  )
}

# Constructed cases (data written to tests/reference/data/, read by the Python tests):
#   zinb_boundary  NB2 counts; rows with g = 0 get 40 % structural zeros, rows with g = 1
#                  have no zero at all (y >= 1), so P(structural zero | g = 1) -> 0 and
#                  the inflation coefficient of g diverges to -infinity.
#   hurdle_nodisp  30 % zeros; the positives are 1 + Binomial(2, 0.5), less dispersed than
#                  a Poisson, so the truncated NB2's alpha -> 0 (theta -> infinity).
set.seed(20261201)
n <- 800
x <- round(rnorm(n), 6)
g <- rbinom(n, 1, 0.5)
mu <- exp(0.8 + 0.4 * x)
y <- rnbinom(n, size = 2, mu = mu)
y <- ifelse(g == 1, pmax(y, 1), ifelse(runif(n) < 0.4, 0, y))
yh <- ifelse(runif(n) < 0.3, 0, 1 + rbinom(n, 2, 0.5))
dir.create("tests/reference/data", showWarnings = FALSE, recursive = TRUE)
write.csv(data.frame(y = y, x = x, g = g), "tests/reference/data/fit_status_zinb.csv",
          row.names = FALSE)
write.csv(data.frame(y = yh, x = x, g = g), "tests/reference/data/fit_status_hurdle.csv",
          row.names = FALSE)
d_demo <- d
d <- read.csv("tests/reference/data/fit_status_zinb.csv")
out_zinb <- fit_case(list(fun = "zeroinfl", f = "y ~ x | g"))
d <- read.csv("tests/reference/data/fit_status_hurdle.csv")
out_hurdle <- fit_case(list(fun = "hurdle", f = "y ~ x | x + g"))
d <- d_demo

out <- lapply(cases, fit_case)
out$zinb_boundary <- out_zinb
out$hurdle_nodisp <- out_hurdle
out$`_meta` <- list(R = R.version.string, pscl = as.character(packageVersion("pscl")),
                    MASS = as.character(packageVersion("MASS")), n = nrow(d))
dir.create("tests/reference/fixtures", showWarnings = FALSE, recursive = TRUE)
write_json(out, "tests/reference/fixtures/fit_status.json", auto_unbox = TRUE,
           digits = NA, pretty = TRUE, na = "null")
cat("wrote tests/reference/fixtures/fit_status.json\n")
