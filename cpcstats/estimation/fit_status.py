"""Whether a fit is a result: the one check every family's fit goes through.

Why a module of its own: a fit at a boundary, with a singular Hessian or a flat
likelihood returns numbers that look like estimates; `fit_problems` says, one line per
reason, why they are not, and `cpcstats.estimation.fit` stores the lines in
`FitResult.problems` (a result with any is *flagged*: shown with a mark and no standard
errors, never ranked or recommended).  The checks are general (the information matrix
over all estimated parameters, the NB dispersion, logit probabilities at 0/1), not a
list of known cases; ``tests/reference/make_fit_status.R`` shows what ``pscl`` returns
for the same fits.
"""

from __future__ import annotations

import numpy as np

from cpcstats.estimation.base import ALPHA_BOUNDARY, INFLATE, ZERO, CoreFit, ModelData

__all__ = ["fit_problems"]

#: the scaled model-based variance's condition number beyond which the information
#: matrix counts as singular (healthy fits of the demo: below 1e5)
SINGULAR_CONDITION = 1e10
#: a logit-part coefficient of the intercept or of a 0/1 indicator beyond this puts that
#: group's probability at 0 or 1 (odds ratio e^15 ≈ 3e6): quasi-separation, the MLE is at
#: infinity (pscl reports such fits with a singular variance, all SEs NaN)
LOGIT_BOUNDARY = 15.0
#: NB2 dispersion beyond this is the theta = 1/alpha -> 0 boundary (the logarithmic-
#: series limit a hurdle-NB reaches when the positive counts are very dispersed)
ALPHA_UPPER = 1e3
#: a scaled model-based standard error beyond this (log/logit units per SD of the
#: regressor) means the likelihood is flat in that direction
HUGE_SE = 1e3


def _scales(core: CoreFit, data: ModelData) -> np.ndarray:
    """Per-parameter scale of the bread: each design column's SD (count part, then the
    zero part), 1 for constant columns and ancillary parameters, so the eigenvalue check
    does not depend on the units of the regressors."""
    q = len(np.asarray(core.bread))
    blocks = [data.X] + ([data.Z] if data.Z is not None else [])
    sd = np.concatenate([np.asarray(b, dtype=float).std(axis=0) for b in blocks])
    if len(sd) > q:
        return np.ones(q)
    sd[~np.isfinite(sd) | (sd == 0)] = 1.0
    return np.concatenate([sd, np.ones(q - len(sd))])


def _ratio(value: float) -> str:
    """An eigenvalue ratio as a reader can take it (below double precision: "< 1e-16")."""
    return "< 1e-16" if value < 1e-16 else f"{value:.1g}"


def _information_problems(core: CoreFit, data: ModelData) -> list[str]:
    """A singular, non-finite or indefinite information matrix, or a flat direction.

    Checked on the model-based variance over all estimated parameters (the inverse of
    the information, ``core.bread``), scaled by the regressors' SDs; parameters held at a
    bound (an all-zero row) are left out.
    """
    bread = np.asarray(core.bread, dtype=float)
    undefined = "standard errors are not defined"
    if bread.size == 0:
        return []
    if not np.isfinite(bread).all():
        return [f"singular Hessian (the information matrix cannot be inverted): {undefined}"]
    scale = _scales(core, data)
    scaled = (bread + bread.T) / 2 * np.outer(scale, scale)
    free = ~np.all(scaled == 0, axis=0)
    scaled = scaled[np.ix_(free, free)]
    try:
        eig = np.linalg.eigvalsh(scaled)
    except np.linalg.LinAlgError:
        return [f"singular Hessian (its eigenvalues cannot be computed): {undefined}"]
    top = float(eig.max()) if eig.size else 0.0
    if eig.size == 0 or top <= 0:
        return [f"singular Hessian (no positive eigenvalue): {undefined}"]
    if eig.min() < -1e-8 * top:
        return [
            f"the Hessian is not negative definite (an information eigenvalue "
            f"{eig.min() / top:.1g} of the largest is negative): not a maximum, {undefined}"
        ]
    problems = []
    if eig.min() < top / SINGULAR_CONDITION:
        problems.append(
            f"singular Hessian (smallest eigenvalue {_ratio(eig.min() / top)}): {undefined} "
            "(eigenvalues of the information scaled by the regressors' SDs, relative to the "
            "largest)"
        )
    names = list(core.names) + [f"ancillary {i}" for i in range(len(bread) - len(core.names))]
    flat = [
        n
        for n, v in zip(np.array(names)[free], np.diag(scaled), strict=True)
        if np.sqrt(v) > HUGE_SE
    ]
    if flat and not problems:
        problems.append(f"huge standard error(s) of {', '.join(flat)}: the likelihood is flat")
    return problems


def _indicator_coefficients_beyond(
    core: CoreFit, columns: dict[str, int], matrix: np.ndarray
) -> list[str]:
    """``"name = b"`` for each coefficient beyond +-`LOGIT_BOUNDARY` whose column (in
    ``matrix``, by ``columns``) is a constant or a 0/1 indicator: a probability or mean
    at its limit for those rows (quasi-separation), not a number to report."""
    out = []
    for name, b in zip(core.names, core.params, strict=False):
        j = columns.get(name)
        if j is None or abs(b) <= LOGIT_BOUNDARY:
            continue
        column = np.unique(matrix[:, j])
        if len(column) == 1 or set(column.tolist()) <= {0.0, 1.0}:
            out.append(f"{name} = {b:.1f}")
    return out


def _boundary_problems(family: str, core: CoreFit, data: ModelData) -> list[str]:
    """Parameters at the boundary: the NB dispersion, and logit probabilities at 0/1."""
    problems = []
    alpha = core.alpha
    if alpha is not None and np.isfinite(alpha):
        if alpha >= ALPHA_UPPER and family != "negbin1":
            problems.append(
                f"NB dispersion at the boundary (alpha = {alpha:.3g}, theta = 1/alpha → 0): "
                "no NB2 fits these counts, and the intercept trades off against log(alpha)"
            )
        elif alpha < ALPHA_BOUNDARY:
            problems.append(
                f"NB dispersion at the boundary (alpha = {alpha:.2g} → 0, theta → ∞): no "
                "overdispersion, the model is its Poisson limit"
            )
    if data.Z is not None:
        cols = {INFLATE + n: j for j, n in enumerate(data.z_names)}
        cols.update({ZERO + n: j for j, n in enumerate(data.z_names)})
        at_bound = _indicator_coefficients_beyond(core, cols, data.Z)
        if at_bound:
            part = "inflation" if at_bound[0].startswith(INFLATE) else "zero-hurdle"
            problems.append(
                f"{part} probabilities at 0/1 ({', '.join(at_bound)}): a boundary "
                "(quasi-separation), those coefficients are not identified"
            )
    return problems


def _count_part_problems(family: str, core: CoreFit, data: ModelData) -> list[str]:
    """A hurdle's count part at the boundary: a coefficient of a constant or 0/1 column
    beyond +-15 on the log scale sends the truncated mean of those rows to its limit (every
    positive count a 1), so it is not identified.  Found on the demo: the count intercept
    -38 against recognizes_prc +35 (pscl: 16.6 with SE 225), the log-likelihoods equal."""
    if not family.startswith("hurdle"):
        return []
    cols = {n: j for j, n in enumerate(data.x_names)}
    at_bound = [
        t.replace("Intercept =", "the intercept =", 1)
        for t in _indicator_coefficients_beyond(core, cols, data.X)
    ]
    if not at_bound:
        return []
    return [
        f"count part at the boundary ({', '.join(at_bound)}): the positive counts' mean of "
        "some rows is at its limit (quasi-separation), those coefficients are not identified"
    ]


def fit_problems(family: str, core: CoreFit, data: ModelData) -> list[str]:
    """Why a fit is not a result, one line each (empty for a sound fit).

    One check for every family: the information matrix (singular, non-finite, not
    negative definite, a flat direction), parameters at the boundary (NB dispersion
    alpha → ∞ or → 0; a logit part's probabilities at 0/1; a hurdle count part's mean at
    its limit).  Non-convergence is
    `FitResult.converged` (and flags the result by itself).  Thresholds are the module's
    constants; the R comparison is ``tests/reference/make_fit_status.R``.
    """
    problems = _boundary_problems(family, core, data)
    problems += _count_part_problems(family, core, data)
    problems += _information_problems(core, data)
    return list(dict.fromkeys(problems))
