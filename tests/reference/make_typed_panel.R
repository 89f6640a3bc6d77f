#!/usr/bin/env Rscript
# R reference for a user's panel read with its types (cpcstats fit --data).
#
# Run from the repository root:
#
#     Rscript tests/reference/make_typed_panel.R
#
# Writes tests/reference/data/typed_panel.csv (a small simulated country-year panel in
# the shape users send: R-style NA, empty cells and Stata's "." as missing values in
# numeric columns, an ISO2 key column in which "NA" is Namibia) and reads it back with
# R's own read.csv(na.strings = c("NA", "", ".")), fits
#
#     glm(y ~ x + z + factor(g), family = poisson)    and
#     MASS::glm.nb(y ~ x + z + factor(g))
#
# with R's default NA handling (na.omit) and writes the coefficients, standard errors,
# log-likelihoods, N, theta and the file rows R dropped to
# tests/reference/fixtures/typed_panel.json.  tests/test_user_panels.py fits the same
# file (and its Parquet, Stata and Excel versions) with cpcstats and compares.
#
# Convergence: glm.control(epsilon = 1e-14, maxit = 100), so the values are the MLE to
# far better than the 1e-6 the test asks for.  Needs MASS and jsonlite.

suppressPackageStartupMessages({
  library(MASS)
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
csv_path <- file.path(script_dir, "data", "typed_panel.csv")
out_path <- file.path(script_dir, "fixtures", "typed_panel.json")

# ---------------------------------------------------------------- the data
set.seed(20260112)
n <- 120L
iso2 <- rep(c("NA", "FR", "DE", "CN", "VN", "ZA", "BR", "IN", "CU", "LA"), length.out = n)
year <- rep(2002L + 0:11, each = 10L)
g <- sample(c("east", "south", "west"), n, replace = TRUE)
x <- round(runif(n, -1, 2), 3)
z <- round(rnorm(n), 3)
eta <- 0.2 + 0.45 * x - 0.3 * z + c(east = 0, south = 0.4, west = -0.3)[g]
y <- rnbinom(n, mu = exp(eta), size = 4)

fmt <- function(v) formatC(v, format = "fg", digits = 6, flag = "")
cells <- data.frame(
  iso2 = iso2, year = as.character(year), g = g,
  x = trimws(fmt(x)), z = trimws(fmt(z)), y = as.character(y),
  stringsAsFactors = FALSE
)
# missing values as users write them: R's NA, an empty cell, Stata's "."
cells$x[c(5, 17)] <- "NA"
cells$x[30] <- ""
cells$z[c(9, 44)] <- "."
cells$z[60] <- "NA"
cells$y[12] <- "NA"
cells$y[77] <- ""
lines <- c(paste(names(cells), collapse = ","), apply(cells, 1, paste, collapse = ","))
writeLines(lines, csv_path, useBytes = TRUE)

# ---------------------------------------------------------------- R's reading and fits
panel <- read.csv(csv_path, na.strings = c("NA", "", "."), stringsAsFactors = FALSE)
stopifnot(is.numeric(panel$x), is.numeric(panel$z), is.integer(panel$y))
CTL <- glm.control(epsilon = 1e-14, maxit = 100)

num <- function(v) unname(as.list(v))
named <- function(v) as.list(v)
case <- function(m, call) {
  s <- summary(m)$coefficients
  out <- list(
    call = call,
    coef = named(s[, 1]),
    se = named(s[, 2]),
    loglik = as.numeric(logLik(m)),
    nobs = nobs(m),
    dropped_file_rows = as.integer(na.action(m)) + 1L  # row 1 is the header
  )
  if (!is.null(m$theta)) {
    out$theta <- m$theta
    out$alpha <- 1 / m$theta
  }
  out
}
poisson_m <- glm(y ~ x + z + factor(g), family = poisson, data = panel, control = CTL)
negbin_m <- MASS::glm.nb(y ~ x + z + factor(g), data = panel, control = CTL)

result <- list(
  meta = list(
    r_version = R.version.string,
    mass = as.character(packageVersion("MASS")),
    jsonlite = as.character(packageVersion("jsonlite")),
    data_md5 = unname(tools::md5sum(csv_path)),
    read = "read.csv(file, na.strings = c('NA', '', '.'), stringsAsFactors = FALSE)",
    note = paste(
      "R's na.strings apply to every column, so R reads Namibia's 'NA' in iso2 as",
      "missing; cpcstats keeps it as text (iso2 is not in the models)."
    )
  ),
  rows = nrow(panel),
  cases = list(
    poisson = case(poisson_m, "glm(y ~ x + z + factor(g), family = poisson, data = panel, control = CTL)"),
    negbin = case(negbin_m, "MASS::glm.nb(y ~ x + z + factor(g), data = panel, control = CTL)")
  )
)
writeLines(toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE), out_path)
cat("wrote", csv_path, "and", out_path, "\n")
