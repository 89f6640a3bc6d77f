# Standard errors of FE models with the fixed effects counted three ways in K of the
# small-sample factor, as fixest's ssc(fixef.K = "full" | "nested" | "none"), computed
# independently of cpcstats (and of fixest, which is not installable here):
#
#   * the models are R's glm (Poisson) and lm (log(1 + y)) with factor dummies for the
#     party and year effects;
#   * the unadjusted clustered sandwich is sandwich::vcovCL(type = "HC0", cadjust = FALSE);
#   * the small-sample factors are applied by hand: G/(G-1) for each clustering
#     (two-way: each of the three terms, Cameron-Gelbach-Miller) and (n-1)/(n-K); HC1
#     is vcovHC(type = "HC0") times n/(n-K);
#   * K is counted here from the design: "full" = the columns of the dummy model;
#     "none" = those less every FE parameter (sum of levels - (#FE - 1)); "nested" =
#     "full" less (levels - 1) of each FE whose every level lies in one cluster of a
#     cluster variable (fixest's count with fixef.force_exact = FALSE).
#
# The data (parties nested in countries, years crossing them) are made here, seeded, and
# written into the JSON with the results.  Run from the repository root:
#   Rscript tests/reference/make_k_fixef.R
# (needs r-base-core, r-cran-sandwich, r-cran-jsonlite; a rerun writes identical bytes.)

suppressPackageStartupMessages({
  library(sandwich)
  library(jsonlite)
})

set.seed(20261201)
grid <- expand.grid(year = 2001:2008, p = 1:3, c = 1:15)
grid$country <- sprintf("C%02d", grid$c)
grid$party <- sprintf("C%02d_P%d", grid$c, grid$p)
d <- grid[sample(nrow(grid), round(0.9 * nrow(grid))), c("country", "party", "year")]
d <- d[order(d$country, d$party, d$year), ]
rownames(d) <- NULL
n <- nrow(d)
d$x1 <- round(rnorm(n), 6)
d$x2 <- round(rnorm(n) + 0.5 * as.integer(factor(d$country)) / 15, 6)
party_effect <- rnorm(length(unique(d$party)), sd = 0.5)
names(party_effect) <- sort(unique(d$party))
year_effect <- rnorm(8, sd = 0.3)
eta <- 0.4 + 0.3 * d$x1 - 0.2 * d$x2 + party_effect[d$party] + year_effect[d$year - 2000]
d$y <- rpois(n, exp(eta))
stopifnot(all(tapply(d$y, d$party, sum) > 0), all(tapply(d$y, d$year, sum) > 0))

fes <- c("party", "year")
sizes <- sapply(fes, function(fe) length(unique(d[[fe]])))
nested_in <- function(fe, cl) {
  fe == cl || all(tapply(d[[cl]], d[[fe]], function(v) length(unique(v))) == 1)
}

count_k <- function(k_full, how, clusters) {
  if (how == "full") return(k_full)
  if (how == "none") return(k_full - (sum(sizes) - (length(sizes) - 1)))
  nested <- sapply(fes, function(fe) any(sapply(clusters, function(cl) nested_in(fe, cl))))
  k_full - sum((sizes - 1)[nested])
}

v_hc0_cl <- function(m, cl) {
  g <- length(unique(cl))
  vcovCL(m, cluster = cl, type = "HC0", cadjust = FALSE) * g / (g - 1)
}

clustered <- function(m, clusters, k) {
  if (length(clusters) == 1) {
    meat <- v_hc0_cl(m, d[[clusters]])
  } else {
    a <- d[[clusters[1]]]
    b <- d[[clusters[2]]]
    meat <- v_hc0_cl(m, a) + v_hc0_cl(m, b) - v_hc0_cl(m, paste(a, b))
  }
  meat * (n - 1) / (n - k)
}

se_of <- function(v) as.list(sqrt(diag(v)[c("x1", "x2")]))

cases_for <- function(m) {
  k_full <- m$rank
  stopifnot(k_full == ncol(model.matrix(m)))
  out <- list()
  for (clusters in list("country", c("country", "year"))) {
    for (how in c("full", "nested", "none")) {
      k <- count_k(k_full, how, clusters)
      name <- paste0("cluster_", paste(clusters, collapse = "+"), "_", how)
      out[[name]] <- list(
        se = "cluster", cluster = as.list(clusters), k_fixef = how, K = k,
        std_errors = se_of(clustered(m, clusters, k))
      )
    }
  }
  for (how in c("full", "nested", "none")) {
    k <- count_k(k_full, how, character(0))
    out[[paste0("hc1_", how)]] <- list(
      se = "hc1", cluster = list(), k_fixef = how, K = k,
      std_errors = se_of(vcovHC(m, type = "HC0") * n / (n - k))
    )
  }
  list(coef = as.list(coef(m)[c("x1", "x2")]), k_full = k_full, cases = out)
}

pois <- glm(y ~ x1 + x2 + factor(party) + factor(year), family = poisson, data = d,
            control = glm.control(epsilon = 1e-14, maxit = 100))
ols <- lm(log1p(y) ~ x1 + x2 + factor(party) + factor(year), data = d)

result <- list(
  meta = list(
    script = "tests/reference/make_k_fixef.R",
    r = R.version.string,
    sandwich = as.character(packageVersion("sandwich")),
    jsonlite = as.character(packageVersion("jsonlite")),
    n = n,
    levels = as.list(sizes),
    party_nested_in_country = nested_in("party", "country"),
    year_nested_in_country = nested_in("year", "country")
  ),
  data = d,
  models = list(
    "fe-poisson" = c(list(formula = "y ~ x1 + x2 | party + year"), cases_for(pois)),
    "ols-fe" = c(list(formula = "y ~ x1 + x2 | party + year"), cases_for(ols))
  )
)
dir.create("tests/reference/fixtures", showWarnings = FALSE)
write_json(result, "tests/reference/fixtures/k_fixef.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, dataframe = "columns")
cat("wrote tests/reference/fixtures/k_fixef.json\n")
