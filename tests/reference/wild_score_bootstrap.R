# Independent reference for cpcstats.methods.wild_bootstrap (Kline-Santos score bootstrap).
#
# Restricted Poisson GLM with unit and period dummies (glm), efficient score by weighted
# least-squares projection of the tested columns on the restricted model matrix (lm.wfit),
# cluster sums, studentised statistic W = S' V^-1 S with V = sum_g s_g s_g', and bootstrap
# draws with the fixed weight matrix written by make_wild_inputs.py (so draws match).
# Rerun from the repository root:
#   .venv/bin/python tests/reference/make_wild_inputs.py
#   Rscript tests/reference/wild_score_bootstrap.R
library(jsonlite)

here <- "tests/reference"
d <- read.csv(file.path(here, "data", "wild_score_panel.csv"), stringsAsFactors = FALSE)
w <- as.matrix(read.csv(file.path(here, "data", "wild_score_weights.csv")))
d$unit <- factor(d$unit)
d$time <- factor(d$time)
ctrl <- glm.control(epsilon = 1e-14, maxit = 200)

score_case <- function(restricted, tested) {
  fit <- glm(restricted, family = poisson(), data = d, control = ctrl)
  mu <- fitted(fit)
  X <- model.matrix(fit)
  Z <- as.matrix(d[, tested, drop = FALSE])
  proj <- lm.wfit(X, Z, w = mu)
  Zt <- as.matrix(proj$residuals)
  s <- rowsum(Zt * (d$y - mu), d$unit, reorder = TRUE)  # clusters in sorted label order
  stopifnot(identical(rownames(s), colnames(w)))
  G <- nrow(s)
  q <- ncol(s)
  S <- colSums(s)
  W <- as.numeric(t(S) %*% solve(crossprod(s)) %*% S)
  draws <- apply(w, 1, function(wb) {
    Sb <- colSums(s * wb)
    Vb <- crossprod(s * wb)
    as.numeric(t(Sb) %*% solve(Vb) %*% Sb)
  })
  list(
    tested = tested,
    statistic = W,
    df = q,
    p_analytic = pchisq(W * (G - 1) / G, q, lower.tail = FALSE),
    p_bootstrap = mean(draws >= W - 1e-12 * max(1, abs(W))),
    draws = unname(draws),
    scores = unname(s),
    n_clusters = G
  )
}

out <- list(
  post = score_case(y ~ x + unit + time, c("post")),
  joint = score_case(y ~ unit + time, c("post", "x")),
  meta = list(
    r_version = R.version.string,
    data_md5 = unname(tools::md5sum(file.path(here, "data", "wild_score_panel.csv"))),
    weights_md5 = unname(tools::md5sum(file.path(here, "data", "wild_score_weights.csv"))),
    B = nrow(w)
  )
)
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
      file.path(here, "fixtures", "wild_score_bootstrap.json"))
