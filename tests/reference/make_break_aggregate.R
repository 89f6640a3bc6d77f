# Reference values for cpcstats.methods.break_design.panel_to_series (tests/test_break_aggregate.py).
# An unbalanced count panel (units entering and leaving, a time-varying control, NB-type
# noise), the known-break FE-Poisson model as glm with unit dummies, the composition offset
# log sum_i exp(a_i + x_it g) over the units present in each year, and the quasi-Poisson
# glm of the year totals with that offset.  Rerun from the repository root:
#   Rscript tests/reference/make_break_aggregate.R
library(jsonlite)
set.seed(20261201)
units <- 30; years <- 2000:2017; brk <- 2008
d <- expand.grid(unit = 1:units, year = years)
first <- sample(c(2000, 2000, 2000, 2003, 2005), units, replace = TRUE)
last <- sample(c(2017, 2017, 2017, 2012, 2014), units, replace = TRUE)
d <- d[d$year >= first[d$unit] & d$year <= last[d$unit], ]
a <- rnorm(units, 0, 0.8)
shock <- rnorm(length(years), 0, 0.1)
d$x <- rnorm(nrow(d))
mu <- exp(1.5 + a[d$unit] + 0.2 * d$x + 0.01 * (d$year - brk) + shock[d$year - 1999])
d$y <- rpois(nrow(d), mu * rgamma(nrow(d), 3, 3))
d <- d[order(d$unit, d$year), ]
d$trend <- d$year - brk
d$post_break <- as.numeric(d$year >= brk)
d$post_trend <- d$trend * d$post_break
m <- glm(y ~ trend + post_break + post_trend + x + factor(unit), family = poisson, data = d,
         control = glm.control(epsilon = 1e-14, maxit = 100))
b <- coef(m)[c("trend", "post_break", "post_trend")]
period <- as.matrix(d[, c("trend", "post_break", "post_trend")]) %*% b
comp <- tapply(fitted(m) * exp(-period), d$year, sum)
tot <- tapply(d$y, d$year, sum)
s <- data.frame(year = as.numeric(names(tot)), y = as.numeric(tot), off = log(as.numeric(comp)))
s$trend <- s$year - brk
s$post_break <- as.numeric(s$year >= brk)
s$post_trend <- s$trend * s$post_break
q <- glm(y ~ trend + post_break + post_trend + offset(off), family = quasipoisson, data = s,
         control = glm.control(epsilon = 1e-14, maxit = 100))
v <- vcov(q)[c("post_break", "post_trend"), c("post_break", "post_trend")]
cf <- coef(q)[c("post_break", "post_trend")]
out <- list(
  call = "glm(y ~ trend + post_break + post_trend + x + factor(unit), poisson); totals: glm(quasipoisson, offset = log composition)",
  r_version = R.version.string,
  data = d[, c("unit", "year", "x", "y")],
  break_year = brk,
  panel_coef = as.list(coef(m)[c("trend", "post_break", "post_trend", "x")]),
  series = list(year = s$year, y = s$y, log_composition = s$off),
  series_coef = as.list(coef(q)),
  series_se = as.list(sqrt(diag(vcov(q)))),
  dispersion = summary(q)$dispersion,
  wald = as.numeric(t(cf) %*% solve(v) %*% cf)
)
write_json(out, "tests/reference/fixtures/break_aggregate.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
