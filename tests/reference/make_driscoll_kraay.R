#!/usr/bin/env Rscript
# Independent R reference for the Driscoll-Kraay variance (se = "driscoll-kraay").
#
# Run from the repository root:  Rscript tests/reference/make_driscoll_kraay.R
# Writes tests/reference/fixtures/driscoll_kraay.json: the simulated panel itself (so the
# Python test needs no R and no random numbers of its own), the R calls and the
# sandwich::vcovPL matrices.  Packages: sandwich, jsonlite (Debian r-cran-sandwich,
# r-cran-jsonlite).
#
# Data: 12 units x 15 years of Poisson counts with a common year shock (sd 0.2), unit
# levels and a break at 2010; x is a unit-year covariate.  Models: Poisson GLM with unit
# dummies (the same coefficients as cpcstats' fe-poisson, whose variance block must equal
# the dummy GLM's) and a pooled Poisson GLM.  vcovPL aggregates the scores by year
# (order.by), Bartlett kernel, adjust = TRUE (n/(n-k), k counting the dummies).
suppressPackageStartupMessages({
  library(sandwich)
  library(jsonlite)
})
set.seed(20130101)
units <- 12; years <- 2002:2016
d <- expand.grid(unit = seq_len(units), year = years)
shock <- setNames(rnorm(length(years), 0, 0.2), years)
level <- rnorm(units, 1, 0.5)
d$x <- rnorm(nrow(d))
d$trend <- d$year - 2010
d$post <- as.integer(d$year >= 2010)
eta <- level[d$unit] + 0.03 * d$trend + 0.2 * d$post + 0.1 * d$x + shock[as.character(d$year)]
d$y <- rpois(nrow(d), exp(eta))
ctl <- glm.control(epsilon = 1e-14, maxit = 100)

cases <- list()
add <- function(name, call, terms) {
  m <- eval(call)
  cases[[length(cases) + 1L]] <<- list(
    name = name,
    model = paste(deparse(call), collapse = " "),
    terms = terms,
    coef = unname(coef(m)[terms]),
    lag = list(
      default = unname(vcovPL(m, order.by = d$year, adjust = TRUE)[terms, terms]),
      lag0 = unname(vcovPL(m, order.by = d$year, lag = 0, adjust = TRUE)[terms, terms]),
      lag3 = unname(vcovPL(m, order.by = d$year, lag = 3, adjust = TRUE)[terms, terms])
    ),
    vcovPL_calls = c(
      "vcovPL(m, order.by = d$year, adjust = TRUE)  # lag NW1987 = floor(15^(1/4)) = 1",
      "vcovPL(m, order.by = d$year, lag = 0, adjust = TRUE)",
      "vcovPL(m, order.by = d$year, lag = 3, adjust = TRUE)"
    )
  )
}
terms <- c("trend", "post", "x")
add("fe_poisson", quote(glm(y ~ trend + post + x + factor(unit), family = poisson, data = d,
                            control = ctl)), terms)
add("poisson", quote(glm(y ~ trend + post + x, family = poisson, data = d, control = ctl)),
    terms)
out <- list(
  generated_by = "tests/reference/make_driscoll_kraay.R",
  r_version = R.version.string,
  sandwich_version = as.character(packageVersion("sandwich")),
  data = d[, c("unit", "year", "x", "trend", "post", "y")],
  cases = cases
)
write_json(out, "tests/reference/fixtures/driscoll_kraay.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, matrix = "rowmajor")
cat("wrote tests/reference/fixtures/driscoll_kraay.json\n")
