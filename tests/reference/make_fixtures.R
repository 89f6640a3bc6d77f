#!/usr/bin/env Rscript
# Independent R reference values for the count models of cpcstats.
#
# Run from the repository root, after `python tests/reference/make_data.py`:
#
#     Rscript tests/reference/make_fixtures.R
#
# Reads tests/reference/data/{panel,zeros,hurdle}.csv and writes
# tests/reference/fixtures/r_reference.json.  Every case stores the R call that
# produced it (deparsed from the very expression that was evaluated), so a value
# can always be traced back to its R code.  See tests/reference/README.md.
#
# Debian packages: r-base-core r-cran-mass r-cran-pscl r-cran-sandwich
# r-cran-lmtest r-cran-jsonlite; optional: r-cran-numderiv (full sandwich with theta for
# zinb/hurdle_negbin) and r-cran-geepack (GEE cases).
#
# Convergence: every fit uses a tight convergence control (glm.control(epsilon = 1e-14)
# for glm/glm.nb, reltol = 1e-15 for pscl) so the values are the MLE to ~1e-9 (glm,
# glm.nb) or ~1e-7 (pscl, see max_rel_newton_step); each case records, under default_control_check, how far R's default control
# would land (glm's classical SEs ~4e-7, hurdle NB coefficients ~1e-4).

suppressPackageStartupMessages({
  library(MASS)
  library(pscl)
  library(sandwich)
  library(lmtest)
  library(jsonlite)
})

# ---------------------------------------------------------------- locations
script_dir <- local({
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(file_arg) == 1L) {
    dirname(normalizePath(sub("^--file=", "", file_arg)))
  } else {
    file.path(getwd(), "tests", "reference")
  }
})
data_dir <- file.path(script_dir, "data")
out_path <- file.path(script_dir, "fixtures", "r_reference.json")
dir.create(dirname(out_path), showWarnings = FALSE, recursive = TRUE)

read_data <- function(name) {
  read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
}
panel <- read_data("panel")
zeros <- read_data("zeros")
hurdle <- read_data("hurdle")

# Clusters whose outcome is zero in every period carry no information in a Poisson
# (or NB) model with cluster fixed effects; drop them as fixest/ppmlhdfe do.
all_zero <- tapply(panel$y, panel$g, function(v) all(v == 0))
dropped_clusters <- sort(names(all_zero)[all_zero])
panel_nz <- panel[!(panel$g %in% dropped_clusters), ]
stopifnot(all(tapply(panel_nz$y, panel_nz$t, sum) > 0))

# ---------------------------------------------------------------- helpers
# Evaluate an expression and keep its source text next to the value.
run <- function(expr) {
  e <- substitute(expr)
  list(call = deparse1(e, collapse = " "), value = eval(e, parent.frame()))
}

vec <- function(x) as.list(x)                          # named vector -> JSON object
se_of <- function(V) sqrt(diag(V))
mat <- function(V) list(names = I(rownames(V)), rows = unname(V))  # list of rows
sub_mat <- function(V, keep) V[keep, keep, drop = FALSE]
rel_diff <- function(a, b) max(abs(a - b) / pmax(abs(b), .Machine$double.xmin))

loglik_fields <- function(m) {
  ll <- logLik(m)
  list(loglik = as.numeric(ll), df = as.numeric(attr(ll, "df")))
}

# pscl models keep n in m$n; exact matching, since glm objects would partially match
# m$n to m$null.deviance.
n_obs <- function(m) {
  n <- m[["n", exact = TRUE]]
  as.integer(if (is.null(n)) nobs(m) else n)
}

# Everything a model case stores: call, coef, se, vcov, loglik, df, nobs.
describe <- function(fitted, V = vcov(fitted$value)) {
  m <- fitted$value
  c(
    list(call = fitted$call, coef = vec(coef(m)), se = vec(se_of(V)), vcov = mat(V)),
    loglik_fields(m),
    list(nobs = n_obs(m))
  )
}

# A robust variance: its SEs, the exact call, and optionally the matrix.
robust <- function(expr) {
  e <- substitute(expr)
  V <- eval(e, parent.frame())
  list(call = paste0("sqrt(diag(", deparse1(e, collapse = " "), "))"), V = V, se = se_of(V))
}

nb_theta_fields <- function(m) {
  list(
    theta = m$theta, SE.theta = m$SE.theta,
    alpha = 1 / m$theta, SE.alpha = m$SE.theta / m$theta^2,
    twologlik = m$twologlik
  )
}

# pscl stores log(theta) and its SE; theta's own SE follows by the delta method.
pscl_theta_fields <- function(m) {
  theta <- unname(m$theta[1])
  se_log <- unname(m$SE.logtheta[1])
  list(
    theta = theta, SE.logtheta = se_log, logtheta = log(theta),
    SE.theta = theta * se_log, alpha = 1 / theta, SE.alpha = se_log / theta
  )
}

# Which vcovCL types run on a model without warning or error.
vcovcl_types <- function(m, cluster) {
  vapply(c("HC0", "HC1", "HC2", "HC3"), function(type) {
    tryCatch({
      vcovCL(m, cluster = cluster, type = type)
      "ok"
    }, warning = function(w) paste("warning:", conditionMessage(w)),
    error = function(e) paste("error:", conditionMessage(e)))
  }, character(1))
}

# Refit with the package's default convergence control and report the largest relative
# differences (of the kept coefficients and their classical SEs) from the tight fit.
# glm.nb writes init.theta (the final theta) into its call; drop it to refit from scratch.
default_check <- function(m, default_control, keep = names(coef(m)),
                          label = deparse1(substitute(default_control))) {
  d <- if (inherits(m, "negbin")) {
    update(m, control = default_control, init.theta = NULL)
  } else {
    update(m, control = default_control)
  }
  list(
    control = label,
    max_rel_diff_coef = rel_diff(coef(d)[keep], coef(m)[keep]),
    max_rel_diff_se = rel_diff(se_of(vcov(d))[keep], se_of(vcov(m))[keep]),
    loglik_diff = as.numeric(logLik(d)) - as.numeric(logLik(m))
  )
}

cases <- list()
notes <- character()
cluster_counts <- function(d) list(g = length(unique(d$g)))

# ---------------------------------------------------------------- poisson
f <- run(glm(y ~ x1 + x2 + cat, family = poisson, data = panel,
             control = glm.control(epsilon = 1e-14, maxit = 100)))
m <- f$value
hc0 <- robust(sandwich::vcovHC(m, type = "HC0"))
hc1 <- robust(sandwich::vcovHC(m, type = "HC1"))
clg <- robust(sandwich::vcovCL(m, cluster = ~g, type = "HC1"))
clgt <- robust(sandwich::vcovCL(m, cluster = ~g + t, type = "HC1"))
clg0 <- robust(sandwich::vcovCL(m, cluster = ~g, type = "HC0"))
poisson_model <- m
cases$poisson <- c(describe(f), list(
  se_hc0 = vec(hc0$se), se_hc1 = vec(hc1$se),
  se_cl_g = vec(clg$se), se_cl_gt = vec(clgt$se), se_cl_g_hc0 = vec(clg0$se),
  vcov_cl_g = mat(clg$V), vcov_cl_gt = mat(clgt$V),
  se_calls = list(
    se_hc0 = hc0$call, se_hc1 = hc1$call, se_cl_g = clg$call,
    se_cl_gt = clgt$call, se_cl_g_hc0 = clg0$call
  ),
  n_clusters = list(g = length(unique(panel$g)), t = length(unique(panel$t)),
                    g_t = nrow(unique(panel[c("g", "t")]))),
  default_control_check = default_check(m, glm.control()),
  sandwich_version = as.character(packageVersion("sandwich")),
  definitions = paste(
    "se: inverse Fisher information (summary.glm, dispersion 1).",
    "HC0: bread %*% meat %*% bread / n with meat = crossprod(estfun)/n.",
    "HC1 (vcovHC): HC0 * n/(n-k).",
    "vcovCL(type = 'HC1', cadjust = TRUE): HC0-clustered meat * G/(G-1) * (n-1)/(n-k).",
    "vcovCL(type = 'HC0'): G/(G-1) only.",
    "Two-way (~ g + t, multi0 = FALSE): meat_g*G_g/(G_g-1) + meat_t*G_t/(G_t-1)",
    "- meat_gt*G_gt/(G_gt-1) with g:t as the intersection clustering",
    "(here every g:t cell is one row, so G_gt = n), all times (n-1)/(n-k)."
  )
))

# ---------------------------------------------------------------- poisson_offset
f <- run(glm(y ~ x1 + x2 + offset(log(expo)), family = poisson, data = panel,
             control = glm.control(epsilon = 1e-14, maxit = 100)))
m <- f$value
clg <- robust(sandwich::vcovCL(m, cluster = ~g, type = "HC1"))
cases$poisson_offset <- c(describe(f), list(
  se_cl_g = vec(clg$se), vcov_cl_g = mat(clg$V), se_calls = list(se_cl_g = clg$call),
  n_clusters = cluster_counts(panel), default_control_check = default_check(m, glm.control())
))

# ---------------------------------------------------------------- poisson_fe
f <- run(glm(y ~ x1 + x2 + factor(g) + factor(t), family = poisson, data = panel_nz,
             control = glm.control(epsilon = 1e-14, maxit = 100)))
m <- f$value
stopifnot(!anyNA(coef(m)))
keep <- c("x1", "x2")
V <- vcov(m)
clg <- robust(sandwich::vcovCL(m, cluster = ~g, type = "HC1"))
clg0 <- robust(sandwich::vcovCL(m, cluster = ~g, type = "HC0"))
cases$poisson_fe <- c(list(
  call = f$call,
  data = "panel_nz = panel without the clusters g whose y is 0 in every period",
  dropped_clusters = I(dropped_clusters),
  n_dropped = nrow(panel) - nrow(panel_nz),
  coef = vec(coef(m)[keep]), se = vec(se_of(V)[keep]), vcov = mat(sub_mat(V, keep)),
  se_cl_g = vec(clg$se[keep]), vcov_cl_g = mat(sub_mat(clg$V, keep)),
  se_cl_g_hc0 = vec(clg0$se[keep]),
  se_calls = list(se_cl_g = clg$call, se_cl_g_hc0 = clg0$call)
), loglik_fields(m), list(
  nobs = n_obs(m), n_params = length(coef(m)), n_clusters = cluster_counts(panel_nz),
  default_control_check = default_check(m, glm.control(), keep),
  definitions = paste(
    "Fixed effects as dummies; k in (n-1)/(n-k) counts every dummy",
    sprintf("(k = %d). se_cl_g_hc0 has only G/(G-1), to convert to other", length(coef(m))),
    "small-sample conventions (e.g. fixest, which does not count FE nested in the cluster)."
  )
))

# ---------------------------------------------------------------- negbin
f <- run(MASS::glm.nb(y ~ x1 + x2 + cat, data = panel,
                      control = glm.control(epsilon = 1e-14, maxit = 100)))
m <- f$value
stopifnot(isTRUE(all.equal(unname(se_of(vcov(m))),
                           unname(summary(m)$coefficients[, "Std. Error"]), tolerance = 1e-14)))
hc0 <- robust(sandwich::vcovHC(m, type = "HC0"))
hc1 <- robust(sandwich::vcovHC(m, type = "HC1"))
clg <- robust(sandwich::vcovCL(m, cluster = ~g, type = "HC1"))
clgt <- robust(sandwich::vcovCL(m, cluster = ~g + t, type = "HC1"))
nb_panel <- m
cases$negbin <- c(describe(f), nb_theta_fields(m), list(
  se_hc0 = vec(hc0$se), se_hc1 = vec(hc1$se), se_cl_g = vec(clg$se), se_cl_gt = vec(clgt$se),
  vcov_cl_g = mat(clg$V),
  se_calls = list(se_hc0 = hc0$call, se_hc1 = hc1$call, se_cl_g = clg$call,
                  se_cl_gt = clgt$call),
  n_clusters = list(g = length(unique(panel$g)), t = length(unique(panel$t))),
  default_control_check = default_check(m, glm.control()),
  definitions = paste(
    "NB2: Var = mu + mu^2/theta, alpha = 1/theta.",
    "se (summary.negbin, dispersion 1): inverse expected information of beta at the",
    "estimated theta (theta held fixed, no beta-theta covariance).",
    "SE.theta (theta.ml): from the observed information of theta alone, mu held fixed.",
    "SE.alpha = SE.theta/theta^2 (delta method).",
    "sandwich's estfun/bread for negbin objects are the glm ones with theta held fixed;",
    "k in n/(n-k) and (n-1)/(n-k) counts the mean coefficients only (not theta).",
    "df of logLik counts theta."
  )
))

# ---------------------------------------------------------------- negbin_offset
f <- run(MASS::glm.nb(y ~ x1 + x2 + offset(log(expo)), data = panel,
                      control = glm.control(epsilon = 1e-14, maxit = 100)))
m <- f$value
clg <- robust(sandwich::vcovCL(m, cluster = ~g, type = "HC1"))
cases$negbin_offset <- c(describe(f), nb_theta_fields(m), list(
  se_cl_g = vec(clg$se), vcov_cl_g = mat(clg$V), se_calls = list(se_cl_g = clg$call),
  n_clusters = cluster_counts(panel), default_control_check = default_check(m, glm.control())
))

# ---------------------------------------------------------------- negbin_fe
f <- run(MASS::glm.nb(y ~ x1 + x2 + factor(g), data = panel_nz,
                      control = glm.control(epsilon = 1e-14, maxit = 100)))
m <- f$value
stopifnot(!anyNA(coef(m)))
V <- vcov(m)
clg <- robust(sandwich::vcovCL(m, cluster = ~g, type = "HC1"))
cases$negbin_fe <- c(list(
  call = f$call,
  data = "panel_nz = panel without the clusters g whose y is 0 in every period",
  dropped_clusters = I(dropped_clusters),
  n_dropped = nrow(panel) - nrow(panel_nz),
  coef = vec(coef(m)[keep]), se = vec(se_of(V)[keep]), vcov = mat(sub_mat(V, keep)),
  se_cl_g = vec(clg$se[keep]), se_calls = list(se_cl_g = clg$call)
), nb_theta_fields(m), loglik_fields(m), list(
  nobs = n_obs(m), n_params = length(coef(m)), n_clusters = cluster_counts(panel_nz),
  default_control_check = default_check(m, glm.control(), keep),
  definitions = paste(
    "Unconditional NB with cluster dummies (not the Hausman-Hall-Griliches conditional NB);",
    "classical se at the estimated theta as in the negbin case."
  )
))

# ---------------------------------------------------------------- zero-inflated
# pscl's default optim tolerance (reltol = .Machine$double.eps^(1/1.6), about 1.5e-10)
# leaves zeroinfl coefficients ~1e-6 and hurdle NB coefficients ~1e-4 (relative) from
# the maximum; the fixtures use reltol = 1e-15 so they are the MLE to ~1e-9.
pscl_extra <- function(m, default_control, data) {
  clg <- robust(sandwich::vcovCL(m, cluster = ~g, type = "HC0"))
  clg1 <- robust(sandwich::vcovCL(m, cluster = ~g, type = "HC1"))
  hc0 <- robust(sandwich::sandwich(m))
  list(
    se_cl_g = vec(clg$se), se_cl_g_hc1 = vec(clg1$se), se_hc0 = vec(hc0$se),
    vcov_cl_g = mat(clg$V),
    se_calls = list(se_cl_g = clg$call, se_cl_g_hc1 = clg1$call, se_hc0 = hc0$call),
    vcovCL_types = as.list(vcovcl_types(m, ~g)),
    n_clusters = cluster_counts(data),
    optim_converged = m$converged,
    max_abs_score = max(abs(colSums(estfun(m)))),
    default_control_check = default_check(m, default_control,
                                          label = deparse1(substitute(default_control)))
  )
}

zi_def <- paste(
  "pscl zeroinfl: P(y = 0) = pi + (1 - pi) f(0), pi = plogis(z'gamma) is the probability of",
  "a structural zero; zero_ coefficients model pi.",
  "vcov = inverse of optim's numerically differentiated Hessian of the log-likelihood",
  "(in (beta, gamma, log(theta))), theta rows dropped; se from it.",
  "estfun.zeroinfl has no theta column and bread.zeroinfl = vcov * n, so",
  "vcovCL/sandwich treat theta as fixed in the meat but use the theta-adjusted bread;",
  "vcovCL type HC0 = G/(G-1) only; HC1 adds (n-1)/(n-k), k = beta + gamma (no theta);",
  "HC2/HC3 are not available for zeroinfl (warning).",
  "sandwich(m) = HC0 without any small-sample factor."
)

f <- run(pscl::zeroinfl(y ~ x1 + x2 | z1, data = zeros, dist = "poisson",
                        control = pscl::zeroinfl.control(reltol = 1e-15, maxit = 50000)))
m <- f$value
zip_model <- m
cases$zip <- c(describe(f), pscl_extra(m, pscl::zeroinfl.control(), zeros), list(definitions = zi_def))

f <- run(pscl::zeroinfl(y ~ x1 + x2 | z1, data = zeros, dist = "negbin",
                        control = pscl::zeroinfl.control(reltol = 1e-15, maxit = 50000)))
m <- f$value
zinb_model <- m
cases$zinb <- c(describe(f), pscl_theta_fields(m), pscl_extra(m, pscl::zeroinfl.control(), zeros),
                list(definitions = paste(zi_def, "SE.theta = theta * SE.logtheta (delta method).",
                                         "df of logLik counts theta.")))

# ---------------------------------------------------------------- hurdle
hu_def <- paste(
  "pscl hurdle with zero.dist = 'binomial': P(y > 0) = plogis(z'gamma), so zero_",
  "coefficients model the probability of a POSITIVE count (opposite sign convention to",
  "zeroinfl's inflation part); the count part is zero-truncated, with",
  "log-likelihood = logit part + truncated count part (separable).",
  "theta is the NB2 size of the untruncated count distribution (alpha = 1/theta),",
  "estimated on the log scale; SE.theta = theta * SE.logtheta.",
  "vcov from optim's numerical Hessians (block diagonal: count block, zero block).",
  "estfun.hurdle has no theta column, bread.hurdle = vcov * n (see zip notes)."
)
f <- run(pscl::hurdle(y ~ x1 + x2 | z1, data = hurdle, dist = "poisson",
                      zero.dist = "binomial",
                      control = pscl::hurdle.control(reltol = 1e-15, maxit = 50000)))
m <- f$value
hurdle_poisson_model <- m
cases$hurdle_poisson <- c(describe(f), pscl_extra(m, pscl::hurdle.control(), hurdle),
                          list(definitions = hu_def))

f <- run(pscl::hurdle(y ~ x1 + x2 | z1, data = hurdle, dist = "negbin",
                      zero.dist = "binomial",
                      control = pscl::hurdle.control(reltol = 1e-15, maxit = 50000)))
m <- f$value
hurdle_negbin_model <- m
cases$hurdle_negbin <- c(describe(f), pscl_theta_fields(m), pscl_extra(m, pscl::hurdle.control(), hurdle),
                         list(definitions = hu_def))

# ---------------------------------------------------------------- full sandwich (numDeriv)
# sandwich's vcovCL for zeroinfl/hurdle leaves the theta score out of the meat while its
# bread (pscl's vcov) accounts for theta.  The full sandwich over (beta, gamma, log theta),
# which a Python implementation that stacks all scores would compute, is given here from
# hand-written per-observation log-likelihoods (checked against pscl's logLik and estfun),
# differentiated with numDeriv (Richardson extrapolation).  se_numderiv, from the same
# Hessian, gauges the accuracy of optim's finite-difference Hessian behind pscl's se.
zi_llobs <- function(par, y, X, Z, dist) {
  kx <- ncol(X)
  kz <- ncol(Z)
  mu <- exp(drop(X %*% par[seq_len(kx)]))
  eta_z <- drop(Z %*% par[kx + seq_len(kz)])
  if (dist == "negbin") {
    theta <- exp(par[kx + kz + 1L])
    log_f0 <- dnbinom(0, size = theta, mu = mu, log = TRUE)
    log_fy <- dnbinom(y, size = theta, mu = mu, log = TRUE)
  } else {
    log_f0 <- -mu
    log_fy <- dpois(y, mu, log = TRUE)
  }
  pi0 <- plogis(eta_z)
  ifelse(y == 0, log(pi0 + (1 - pi0) * exp(log_f0)), plogis(-eta_z, log.p = TRUE) + log_fy)
}
hurdle_llobs <- function(par, y, X, Z, dist) {
  kx <- ncol(X)
  kz <- ncol(Z)
  mu <- exp(drop(X %*% par[seq_len(kx)]))
  eta_z <- drop(Z %*% par[kx + seq_len(kz)])
  if (dist == "negbin") {
    theta <- exp(par[kx + kz + 1L])
    log_fy <- dnbinom(y, size = theta, mu = mu, log = TRUE)
    log_pos <- pnbinom(0, size = theta, mu = mu, lower.tail = FALSE, log.p = TRUE)
  } else {
    log_fy <- dpois(y, mu, log = TRUE)
    log_pos <- ppois(0, mu, lower.tail = FALSE, log.p = TRUE)
  }
  ifelse(y == 0, plogis(-eta_z, log.p = TRUE), plogis(eta_z, log.p = TRUE) + log_fy - log_pos)
}
numderiv_fields <- function(m, llobs, dist, data) {
  X <- model.matrix(m, model = "count")
  Z <- model.matrix(m, model = "zero")
  par <- coef(m)
  if (dist == "negbin") par <- c(par, "Log(theta)" = log(unname(m$theta[1])))
  y <- m$y
  f <- function(p) llobs(p, y, X, Z, dist)
  stopifnot(abs(sum(f(par)) - as.numeric(logLik(m))) < 1e-8)
  S <- numDeriv::jacobian(f, par)
  colnames(S) <- names(par)
  ef <- estfun(m)
  stopifnot(max(abs(S[, colnames(ef)] - ef)) < 1e-6)
  H <- numDeriv::hessian(function(p) sum(f(p)), par)
  B <- solve(-H)
  dimnames(B) <- list(names(par), names(par))
  n_g <- length(unique(data$g))
  Sg <- rowsum(S, data$g)
  out <- list(
    se_numderiv = vec(se_of(B)), vcov_numderiv = mat(B),
    max_rel_diff_se_pscl_vs_numderiv = rel_diff(se_of(vcov(m)), se_of(B)[names(coef(m))]),
    # distance of the stored coefficients from the exact maximum: one Newton step
    max_rel_newton_step = max(abs(drop(B %*% colSums(S)) / par))
  )
  if (dist == "negbin") {
    V <- B %*% crossprod(Sg) %*% B * n_g / (n_g - 1)
    V0 <- B %*% crossprod(S) %*% B
    n <- length(y)
    k <- length(coef(m))
    out <- c(out, list(
      se_cl_g_full = vec(se_of(V)), vcov_cl_g_full = mat(V), se_hc0_full = vec(se_of(V0)),
      se_cl_g_full_hc1 = vec(se_of(V * (n - 1) / (n - k))), k_hc1 = k,
      full_sandwich_definition = paste(
        "Parameters (beta, gamma, log theta); bread = inverse of minus the numDeriv Hessian;",
        "meat = crossprod of per-cluster sums of the numDeriv scores (theta score included);",
        "se_cl_g_full = bread meat bread * G/(G-1) (the analogue of vcovCL type HC0);",
        "se_cl_g_full_hc1 multiplies by (n-1)/(n-k) as well, k = k_hc1 = number of",
        "coefficients without theta (sandwich's HC1 convention); se_hc0_full has no factor.",
        "Compare se_cl_g (sandwich::vcovCL), which omits the theta score."
      )
    ))
  }
  out
}
if (requireNamespace("numDeriv", quietly = TRUE)) {
  cases$zip <- c(cases$zip, numderiv_fields(zip_model, zi_llobs, "poisson", zeros))
  cases$zinb <- c(cases$zinb, numderiv_fields(zinb_model, zi_llobs, "negbin", zeros))
  cases$hurdle_poisson <- c(cases$hurdle_poisson,
                            numderiv_fields(hurdle_poisson_model, hurdle_llobs, "poisson", hurdle))
  cases$hurdle_negbin <- c(cases$hurdle_negbin,
                           numderiv_fields(hurdle_negbin_model, hurdle_llobs, "negbin", hurdle))
} else {
  notes <- c(notes, "numDeriv not installed (Debian: r-cran-numderiv): no *_full / *_numderiv.")
}

# ---------------------------------------------------------------- vuong
# pscl::vuong only prints (and returns NULL); recompute its numbers exactly as its
# source does: m_i = log p1(y_i) - log p2(y_i) from predprob(); k = length(coef())
# (theta is not counted for either model); statistic = sum(m - corr)/(sd(m) sqrt(n))
# with corr = 0, (k1 - k2)/n (AIC) or (k1 - k2) log(n)/(2n) (BIC); p = 1 - pnorm(v)
# if v > 0, else pnorm(v) (one-sided, in the direction of the sign).
vuong_values <- function(m1, m2) {
  p1 <- predprob(m1)
  p2 <- predprob(m2)
  col <- match(m1$y, colnames(p1))
  lp1 <- log(p1[cbind(seq_along(col), col)])
  lp2 <- log(p2[cbind(seq_along(col), col)])
  d <- lp1 - lp2
  stopifnot(all(is.finite(d)))
  n <- length(d)
  k1 <- length(coef(m1))
  k2 <- length(coef(m2))
  corr <- c(raw = 0, aic = (k1 - k2) / n, bic = (k1 - k2) / (2 * n) * log(n))
  stat <- vapply(corr, function(cc) sum(d - cc) / (sd(d - cc) * sqrt(n)), numeric(1))
  pval <- ifelse(stat > 0, 1 - pnorm(stat), pnorm(stat))
  p_tail <- pnorm(abs(stat), lower.tail = FALSE)  # same, without 1 - pnorm() underflow
  printed <- capture.output(pscl::vuong(m1, m2))
  list(
    n = n, k1 = k1, k2 = k2, mean_m = mean(d), sd_m = sd(d),
    stat = vec(stat), p = vec(pval), p_tail = vec(p_tail),
    direction = vec(ifelse(stat > 0, "model1 > model2", "model2 > model1")),
    loglik1 = as.numeric(logLik(m1)), loglik2 = as.numeric(logLik(m2)),
    printed = I(printed)
  )
}

f2 <- run(MASS::glm.nb(y ~ x1 + x2, data = zeros, control = glm.control(epsilon = 1e-14, maxit = 100)))
v_nb <- vuong_values(zinb_model, f2$value)
f2p <- run(glm(y ~ x1 + x2, family = poisson, data = zeros,
                 control = glm.control(epsilon = 1e-14, maxit = 100)))
v_p <- vuong_values(zip_model, f2p$value)
cases$vuong <- list(
  zinb_vs_nb = c(list(
    call = "pscl::vuong(zinb_model, nb_model)",
    model1 = cases$zinb$call, model2 = f2$call,
    model2_coef = vec(coef(f2$value)), model2_theta = f2$value$theta
  ), v_nb),
  zip_vs_poisson = c(list(
    call = "pscl::vuong(zip_model, poisson_model)",
    model1 = cases$zip$call, model2 = f2p$call,
    model2_coef = vec(coef(f2p$value))
  ), v_p),
  definitions = paste(
    "stat = sqrt(n) * mean(m - corr) / sd(m - corr), sd with n - 1;",
    "AIC corr = (k1 - k2)/n, BIC corr = (k1 - k2) log(n) / (2n), k = length(coef(model))",
    "which excludes theta for glm.nb and zeroinfl alike;",
    "p = 1 - pnorm(stat) if stat > 0 else pnorm(stat) (pscl's formula; 0 when it underflows);",
    "p_tail = pnorm(abs(stat), lower.tail = FALSE), the same number computed accurately."
  )
)

# ---------------------------------------------------------------- dispersion
m <- poisson_model
mu <- fitted(m)
aux <- ((panel$y - mu)^2 - panel$y) / mu
ct2 <- summary(lm(aux ~ 0 + mu))$coefficients
ct1 <- summary(lm(aux ~ 1))$coefficients
df_aux <- nrow(panel) - 1L
lr <- 2 * (as.numeric(logLik(nb_panel)) - as.numeric(logLik(m)))
cases$dispersion <- list(
  model = cases$poisson$call,
  cameron_trivedi_nb2 = list(
    call = "lm(aux ~ 0 + mu), aux = ((y - mu)^2 - y)/mu, mu = fitted(poisson)",
    coef = ct2[1, "Estimate"], se = ct2[1, "Std. Error"], t = ct2[1, "t value"],
    df = df_aux,
    p_one_sided = pt(ct2[1, "t value"], df_aux, lower.tail = FALSE),
    p_one_sided_normal = pnorm(ct2[1, "t value"], lower.tail = FALSE)
  ),
  cameron_trivedi_nb1 = list(
    call = "lm(aux ~ 1), aux = ((y - mu)^2 - y)/mu, mu = fitted(poisson)",
    coef = ct1[1, "Estimate"], se = ct1[1, "Std. Error"], t = ct1[1, "t value"],
    df = df_aux,
    p_one_sided = pt(ct1[1, "t value"], df_aux, lower.tail = FALSE),
    p_one_sided_normal = pnorm(ct1[1, "t value"], lower.tail = FALSE)
  ),
  lr_poisson_vs_nb2 = list(
    call = "2 * (logLik(negbin) - logLik(poisson)); p = 0.5 * pchisq(LR, 1, lower.tail = FALSE)",
    loglik_poisson = as.numeric(logLik(m)), loglik_nb = as.numeric(logLik(nb_panel)),
    LR = lr, p = 0.5 * pchisq(lr, 1, lower.tail = FALSE)
  )
)

# ---------------------------------------------------------------- gee (optional)
if (requireNamespace("geepack", quietly = TRUE)) {
  gee_case <- function(fitted) {
    m <- fitted$value
    r <- (m$y - fitted(m)) / sqrt(fitted(m))
    scale_hand <- sum(r^2) / length(r)
    stopifnot(abs(m$geese$gamma / scale_hand - 1) < 1e-10)
    if (length(m$geese$alpha)) {
      n_i <- tabulate(m$id)
      pairs <- sum(tapply(r, m$id, function(v) sum(v)^2 - sum(v^2)))
      stopifnot(abs(m$geese$alpha / (pairs / sum(n_i * (n_i - 1)) / scale_hand) - 1) < 1e-6)
    }
    V <- m$geese$vbeta
    dimnames(V) <- list(names(coef(m)), names(coef(m)))
    Filter(Negate(is.null), list(
      call = fitted$call, coef = vec(coef(m)), se = vec(se_of(V)), vcov = mat(V),
      se_model_based = vec(sqrt(diag(m$geese$vbeta.naiv))),
      scale = unname(m$geese$gamma),
      alpha = if (length(m$geese$alpha)) unname(m$geese$alpha) else NULL,
      nobs = nrow(m$data), n_clusters = length(unique(m$id)),
      geepack_version = as.character(packageVersion("geepack")),
      definitions = paste(
        "se: geepack's robust sandwich (std.err = 'san.se'), no small-sample factor;",
        "se_model_based: geepack's naive variance.",
        "scale = sum(r^2)/N with Pearson residuals r = (y - mu)/sqrt(mu), no df correction;",
        "exchangeable alpha = sum_i sum_{j != k} r_ij r_ik / (scale * sum_i n_i (n_i - 1)),",
        "again without df correction (statsmodels GEE matches with scale = 'X2',",
        "ddof_scale = 0).  Data sorted by g, t (id must be contiguous)."
      )
    ))
  }
  panel_sorted <- panel[order(panel$g, panel$t), ]
  panel_sorted$gid <- as.integer(factor(panel_sorted$g))
  cases$gee_exchangeable <- gee_case(run(geepack::geeglm(
    y ~ x1 + x2 + cat, family = poisson, data = panel_sorted, id = gid,
    corstr = "exchangeable", control = geepack::geese.control(epsilon = 1e-12, maxit = 100)
  )))
  cases$gee_independence <- gee_case(run(geepack::geeglm(
    y ~ x1 + x2 + cat, family = poisson, data = panel_sorted, id = gid,
    corstr = "independence", control = geepack::geese.control(epsilon = 1e-12, maxit = 100)
  )))
  notes <- c(notes, paste(
    "gee_*: geepack is in Debian (r-cran-geepack), so the GEE cases are produced when it",
    "is installed; panel_sorted = panel ordered by g, t, gid = integer code of g."
  ))
} else {
  notes <- c(notes, "gee: skipped, geepack is not installed (Debian: r-cran-geepack).")
}

notes <- c(notes,
  "Numbers are written with up to 17 significant digits (shortest that round-trips).",
  "Files are read with read.csv; floats in the CSVs carry 17 significant digits."
)

# ---------------------------------------------------------------- output
pkgs <- c("MASS", "pscl", "sandwich", "lmtest", "jsonlite")
if (requireNamespace("geepack", quietly = TRUE)) pkgs <- c(pkgs, "geepack")
if (requireNamespace("numDeriv", quietly = TRUE)) pkgs <- c(pkgs, "numDeriv")
out <- list(
  meta = list(
    generator = "tests/reference/make_fixtures.R",
    R = R.version.string,
    platform = R.version$platform,
    packages = as.list(vapply(pkgs, function(p) as.character(packageVersion(p)), "")),
    data_md5 = as.list(setNames(
      unname(tools::md5sum(file.path(data_dir, c("panel.csv", "zeros.csv", "hurdle.csv")))),
      c("panel.csv", "zeros.csv", "hurdle.csv")
    )),
    vcov_format = "vcov = {names: [...], rows: [[...], ...]}: the matrix as a list of rows"
  ),
  notes = I(notes),
  cases = cases
)

# jsonlite 1.8.x writes at most 15 significant digits even with digits = NA, so every
# double is formatted here with the fewest of 15/16/17 digits that round-trips and is
# then written verbatim.
fmt_num <- function(x) {
  vapply(x, function(v) {
    if (!is.finite(v)) stop("non-finite number in fixtures")
    for (d in 15:17) {
      s <- sprintf(paste0("%.", d, "g"), v)
      if (as.numeric(s) == v) return(s)
    }
    s
  }, character(1))
}
as_json_tree <- function(x) {
  if (inherits(x, "json")) return(x)
  if (is.list(x)) {
    y <- lapply(x, as_json_tree)
    if (inherits(x, "AsIs")) class(y) <- class(x)
    return(y)
  }
  if (is.double(x) && is.matrix(x)) {
    return(lapply(seq_len(nrow(x)), function(i) {
      structure(paste0("[", paste(fmt_num(x[i, ]), collapse = ","), "]"), class = "json")
    }))
  }
  if (is.double(x)) {
    if (!is.null(names(x))) return(lapply(as.list(x), as_json_tree))
    if (length(x) == 1L && !inherits(x, "AsIs")) return(structure(fmt_num(x), class = "json"))
    return(structure(paste0("[", paste(fmt_num(x), collapse = ","), "]"), class = "json"))
  }
  x
}
write_json(as_json_tree(out), out_path, auto_unbox = TRUE, pretty = TRUE,
           json_verbatim = TRUE, digits = NA)

# Round-trip check: what was written reads back as the same doubles.
back <- fromJSON(out_path, simplifyVector = FALSE)
stopifnot(identical(back$cases$poisson$loglik, cases$poisson$loglik))
stopifnot(identical(unlist(back$cases$zinb$coef), unlist(cases$zinb$coef)))
cat("wrote", out_path, "with cases:", paste(names(cases), collapse = ", "), "\n")
