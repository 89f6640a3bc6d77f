"""Wild cluster score bootstrap for (FE-)Poisson: few-cluster p-values of linear restrictions.

Why: with few treated clusters (16 switching countries, a few BRI signing cohorts) the
cluster-robust (CR1) Wald and score tests over-reject, because the variance of the score
is estimated from a handful of large contributions.  The score bootstrap of Kline and
Santos (2012) fixes the size without refitting the model in each draw:

1. fit the model *restricted* by H0: R b = 0 (FE-Poisson, fixed effects absorbed);
2. partial the tested directions out of the restricted regressors and the fixed effects
   in the metric of the restricted weights mu (the efficient score, so the estimation
   of the nuisance parameters is accounted for) and sum the contributions
   ``s_i = z~_i (y_i - mu_i)`` by cluster: ``s_g`` (G x q);
3. statistic ``W = S' V^-1 S`` with ``S = sum_g s_g`` and ``V = sum_g s_g s_g'`` (the
   studentised robust score statistic; without the G/(G-1) factor, which cancels in the
   bootstrap);
4. bootstrap draws ``S*_b = sum_g w_bg s_g``, ``V*_b = sum_g w_bg^2 s_g s_g'`` and
   ``W*_b = S*_b' V*_b^-1 S*_b`` with independent cluster weights w (Rademacher +-1, or the
   six-point Webb 2014 weights, better with fewer than ~12 clusters);
5. p-value = share of the B draws with ``W*_b >= W`` (B and the seed are reported).

Every draw is a matrix product (vectorised over draws).  The restriction ``R b = 0`` on the
coefficients of ``xnames`` is imposed by reparametrisation: ``b = N g + R'(RR')^-1 d`` with
``N`` a basis of the null space of R, so the restricted model has the regressors ``X N``
and the tested directions are ``X R'(RR')^-1`` (for R selecting columns: drop them from
the model and test them).  Without fixed effects (``fe=()``) the model has an intercept
(absorbed as a one-level fixed effect), so a yearly series can be tested too.  Nothing
here knows the study's columns.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, sparse, stats

from cpcstats.errors import EstimationError, SpecError
from cpcstats.estimation.hdfe import Demeaner, drop_zero_groups, fit_ppml_hdfe

__all__ = [
    "WEBB",
    "WEIGHTS",
    "ScoreContributions",
    "WildScoreTest",
    "bootstrap_weights",
    "draw_weights",
    "pinv_quadratic",
    "project_scores",
    "restricted_fit",
    "score_contributions",
    "score_statistics",
    "wild_score_test",
]

WEIGHTS = ("rademacher", "webb")
#: Webb (2014) six-point weights
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(frozen=True)
class ScoreContributions:
    """Per-cluster efficient-score contributions under H0 (``scores``: G x q).

    ``mu`` (restricted fitted means), ``keep`` (rows of the input used) and ``clusters``
    (cluster label per cluster row of ``scores``) let callers reuse the restricted fit.
    """

    scores: np.ndarray
    clusters: np.ndarray
    mu: np.ndarray
    keep: np.ndarray
    tested: tuple[str, ...]


@dataclass(frozen=True)
class WildScoreTest:
    """Result of `wild_score_test`: statistic, analytic and bootstrap p-values, settings."""

    tested: tuple[str, ...]
    statistic: float  # W = S' V^-1 S (no small-sample factor)
    df: int
    p_analytic: float  # chi2(df) of W * (G-1)/G, i.e. the CR1 robust score test
    p_bootstrap: float
    B: int
    weights: str
    seed: int | None
    n_clusters: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "tested": list(self.tested),
            "statistic": float(self.statistic),
            "df": int(self.df),
            "p_analytic": float(self.p_analytic),
            "p_bootstrap": float(self.p_bootstrap),
            "B": int(self.B),
            "weights": self.weights,
            "seed": self.seed,
            "n_clusters": int(self.n_clusters),
        }


def bootstrap_weights(
    n_clusters: int, B: int, kind: str = "webb", seed: int | None = 0
) -> np.ndarray:
    """B x G cluster weights (Rademacher: +-1; Webb: six points +-sqrt(1/2), +-1, +-sqrt(3/2)).

    Why Webb by default: with G clusters Rademacher weights give only 2^(G-1) distinct
    |statistics|, too few for a smooth p-value when G is about 10 or less.
    """
    if B < 1:
        raise SpecError(f"B must be >= 1, got {B}", column="B")
    if seed is None:
        return draw_weights(np.random.default_rng(seed), B, n_clusters, kind)
    return _seeded_weights(n_clusters, B, kind, seed).copy()


@functools.lru_cache(maxsize=4)
def _seeded_weights(n_clusters: int, B: int, kind: str, seed: int) -> np.ndarray:
    """The draw of a seed, made once: a design tests each coefficient with the same
    weights (the Taiwan design 14 times)."""
    return draw_weights(np.random.default_rng(seed), B, n_clusters, kind)


def draw_weights(rng: np.random.Generator, reps: int, n: int, kind: str) -> np.ndarray:
    """``reps`` x ``n`` wild-bootstrap weights from ``rng``: ``rademacher`` (+-1) or
    ``webb`` (six points).  The one draw every wild bootstrap of the package uses (over
    clusters here, over periods in `cpcstats.methods.break_bootstrap`)."""
    if kind not in WEIGHTS:
        raise SpecError(f"weights={kind!r} is not one of {', '.join(WEIGHTS)}", column="weights")
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(reps, n))
    return rng.choice(WEBB, size=(reps, n))


def _string_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values.astype(str), return_inverse=True)``, each distinct value converted
    to text once (the conversion of every row cost more than the tests' algebra)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    labels, inverse = np.unique(pd.Series(uniques).astype(str).to_numpy(), return_inverse=True)
    return labels, inverse[codes]


def _reparametrise(X: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Restricted regressors X N and tested directions X R'(RR')^-1 for H0: R b = 0."""
    if R.ndim != 2 or R.shape[1] != X.shape[1]:
        raise SpecError(
            f"the restriction matrix must have {X.shape[1]} columns, got shape {R.shape}",
            column="restriction",
        )
    N = linalg.null_space(R)
    tested = X @ R.T @ np.linalg.inv(R @ R.T)
    return X @ N, tested


#: fixed effects with at most this many levels in all are solved with dummy columns
#: (dense IRLS, as R's glm), which is faster for the small panels of few-cluster problems
DENSE_LEVELS = 400
DENSE_ROWS = 50_000


def _group_sums(
    codes: np.ndarray, n_groups: int, V: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """``n_groups`` x m sums of the rows of V (n x m), times ``weights``, by integer code.

    Why a sparse product: ``np.add.at`` and ``reduceat`` over rows are ~10x slower; the
    weights ride in the sparse matrix, so no weighted n x m copy of V is made."""
    data = np.ones(len(codes)) if weights is None else weights
    C = sparse.csr_matrix((data, (codes, np.arange(len(codes)))), shape=(n_groups, len(codes)))
    return np.asarray(C @ V)


def _solve_normal(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A^-1 b for a cross-product A (normal equations).

    Why not ``lstsq``: an SVD of a few-thousand-row design costs seconds when BLAS
    threads compete on a loaded machine, the Cholesky solve of the small cross-product
    does not; a singular cross-product (collinear dummies) falls back to the pseudo-inverse.
    """
    try:
        return linalg.solve(A, b, assume_a="pos")
    except (linalg.LinAlgError, ValueError):
        return np.linalg.pinv(A, hermitian=True) @ b


class _DummyDesign:
    """The dense path's design ``F = [1, FE dummies without their first level, X]``,
    never formed: the dummy blocks of ``F'WF`` and ``F'WZ`` are group sums (``bincount``
    and products with the sparse 0/1 dummies) and ``F b`` is a sparse product.

    Why: with p = 1 + sum(levels - 1) + k columns the dense products cost O(n p^2) and
    O(n p m) (seconds for 200 countries and a few hundred score columns); the group sums
    cost O(n (k + m)).  The coefficients are in the dense design's column order."""

    def __init__(self, codes: list[np.ndarray], X: np.ndarray) -> None:
        self.codes = [np.asarray(c, dtype=np.intp) for c in codes]
        self.levels = [int(c.max()) + 1 for c in self.codes]
        self.offsets = list(1 + np.cumsum([0, *(L - 1 for L in self.levels)]))
        self.n_dummies = int(self.offsets[-1])
        self.X = X
        n = len(self.codes[0])
        cols = [np.zeros(n, dtype=np.intp)]  # the intercept
        rows = [np.arange(n)]
        for c, start in zip(self.codes, self.offsets, strict=False):
            cols.append(start + c[c > 0] - 1)
            rows.append(np.flatnonzero(c > 0))
        r, k = np.concatenate(rows), np.concatenate(cols)
        #: D' (n_dummies x n) and D (n x n_dummies) as sparse 0/1 matrices
        self._DT = sparse.csr_matrix((np.ones(len(r)), (k, r)), shape=(self.n_dummies, n))
        self._D = self._DT.T.tocsr()
        # `solve` eliminates the largest FE first (unless a level has no row: a zero pivot)
        j = int(np.argmax(self.levels))
        full = np.bincount(self.codes[j], minlength=self.levels[j])[1:].all()
        self._d = np.arange(self.offsets[j], self.offsets[j + 1] if full else self.offsets[j])
        self._o = np.setdiff1d(np.arange(self.n_dummies + X.shape[1]), self._d)

    def _dummy_tdot(self, V: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
        """D'V, or D'WV with weights w (n_dummies x m), for V (n x m)."""
        DT = self._DT
        if w is not None and V.shape[1] <= 8:  # a narrow V: weighting it costs less
            V = V * w[:, None]
        elif w is not None:
            DT = sparse.csr_matrix((w[DT.indices], DT.indices, DT.indptr), shape=DT.shape)
        return np.asarray(DT @ V)

    def _dummy_gram(self, w: np.ndarray) -> np.ndarray:
        """D'WD: intercept, FE-by-FE cross counts of the weights (diagonal within a FE)."""
        A = np.zeros((self.n_dummies, self.n_dummies))
        A[:, :1] = self._dummy_tdot(w[:, None])
        A[0] = A[:, 0]
        blocks = list(zip(self.codes, self.levels, self.offsets, strict=False))
        for i, (ci, Li, si) in enumerate(blocks):
            idx = np.arange(si, si + Li - 1)
            A[idx, idx] = A[idx, 0]
            for cj, Lj, sj in blocks[i + 1 :]:
                cross = np.bincount(ci * Lj + cj, weights=w, minlength=Li * Lj)
                A[si : si + Li - 1, sj : sj + Lj - 1] = cross.reshape(Li, Lj)[1:, 1:]
                A[sj : sj + Lj - 1, si : si + Li - 1] = A[si : si + Li - 1, sj : sj + Lj - 1].T
        return A

    def gram(self, w: np.ndarray) -> np.ndarray:
        """F'WF (p x p), p = n_dummies + k."""
        d, X = self.n_dummies, self.X
        Xw = X * w[:, None]
        A = np.empty((d + X.shape[1], d + X.shape[1]))
        A[:d, :d] = self._dummy_gram(w)
        A[:d, d:] = self._dummy_tdot(Xw)
        A[d:, :d] = A[:d, d:].T
        A[d:, d:] = Xw.T @ X
        return A

    def tdot(self, V: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
        """F'V, or F'WV with weights w (p x m), for V (n x m)."""
        Xt = self.X.T if w is None else (self.X * w[:, None]).T
        return np.vstack([self._dummy_tdot(V, w), Xt @ V])

    def solve(self, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(F'WF)^-1 b (b: p x m), the largest FE's block (diagonal: each level's weight
        total) eliminated first, so only the Schur complement of the others is factorised."""
        A, d, o = self.gram(w), self._d, self._o
        Bt = A[np.ix_(o, d)] / np.diag(A)[d]  # B' D^-1
        x = np.empty_like(b)
        x[o] = _solve_normal(A[np.ix_(o, o)] - Bt @ A[np.ix_(d, o)], b[o] - Bt @ b[d])
        x[d] = (b[d] - A[np.ix_(d, o)] @ x[o]) / np.diag(A)[d][:, None]
        return x

    def wls(self, w: np.ndarray, Z: np.ndarray) -> np.ndarray:
        """Weighted least-squares coefficients of Z (n or n x m) on F, weights w."""
        Z2 = Z.reshape(len(Z), -1)
        coef = self.solve(w, self.tdot(Z2, w))
        return coef.reshape((len(coef), *Z.shape[1:]))

    def dot(self, coef: np.ndarray) -> np.ndarray:
        """F coef (n or n x m) for coefficients (p or p x m) in `wls`'s order."""
        d = self.n_dummies
        out = np.asarray(self._D @ coef[:d])
        return out + self.X @ coef[d:] if self.X.shape[1] else out


def _dense_poisson(y: np.ndarray, F: _DummyDesign) -> np.ndarray | None:
    """Poisson IRLS on the dense design F; None if it does not converge or separates."""
    mu = (y + y.mean()) / 2
    eta = np.log(mu)
    dev_old = np.inf
    for _ in range(200):
        z = eta + (y - mu) / mu
        eta = F.dot(F.wls(mu, z))
        mu = np.exp(np.clip(eta, -700, 700))
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * float(np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)))
        if abs(dev - dev_old) / (0.1 + abs(dev)) < 1e-14:
            break
        dev_old = dev
    else:
        return None
    if ((y == 0) & (mu < 1e-9 * max(1.0, float(y.mean())))).any():
        return None
    return mu


def restricted_fit(
    y: np.ndarray, X: np.ndarray, codes: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Fitted means (estimation rows), the rows kept and the regressors estimated.

    Groups whose outcomes are all zero are dropped first (as the FE-Poisson does).  Small
    fixed effects (at most `DENSE_LEVELS` levels in all): dense Poisson IRLS with dummies;
    otherwise, or when the dense fit separates, `cpcstats.estimation.hdfe.fit_ppml_hdfe`
    (which detects separation and drops the separated rows).
    """
    keep = drop_zero_groups(y, codes)
    kc = [np.unique(c[keep], return_inverse=True)[1] for c in codes]
    levels = sum(int(c.max()) + 1 for c in kc)
    if levels <= DENSE_LEVELS and keep.sum() <= DENSE_ROWS:
        mu = _dense_poisson(y[keep], _DummyDesign(kc, X[keep]))
        if mu is not None:
            return mu, keep, list(range(X.shape[1]))
    fitted = fit_ppml_hdfe(y, X, codes, x_names=[f"g{i}" for i in range(X.shape[1])])
    return fitted.mu, fitted.keep, list(fitted.active)


def project_scores(
    y: np.ndarray,
    mu: np.ndarray,
    X: np.ndarray,
    Z: np.ndarray,
    codes: list[np.ndarray],
    cluster: np.ndarray,
) -> np.ndarray:
    """Cluster sums (G x q) of ``z~_i (y_i - mu_i)``: Z partialled out of the fixed effects
    (``codes``) and X in the mu metric.  Rows are the restricted fit's estimation rows."""
    levels = sum(int(c.max()) + 1 for c in codes)
    cluster = np.asarray(cluster, dtype=np.intp)
    n_clusters = int(cluster.max()) + 1
    if levels <= DENSE_LEVELS:
        return _dense_cluster_scores(y - mu, mu, _DummyDesign(codes, X), Z, cluster, n_clusters)
    else:
        both, _ = Demeaner(codes)(np.column_stack([X, Z]), mu)
        X, Z = both[:, : X.shape[1]], both[:, X.shape[1] :]
        if X.shape[1]:
            wx = X * mu[:, None]
            Z = Z - X @ np.linalg.lstsq(wx.T @ X, wx.T @ Z, rcond=None)[0]
    return _group_sums(cluster, n_clusters, Z * (y - mu)[:, None])


def _dense_cluster_scores(
    r: np.ndarray, w: np.ndarray, F: _DummyDesign, Z: np.ndarray, cluster: np.ndarray, G: int
) -> np.ndarray:
    """``C'R (Z - F (F'WF)^-1 F'WZ)`` (G x m) with C the cluster indicator, R = diag(r).

    Why two orders: m < G columns are partialled out (a solve with m right-hand sides);
    for more (the randomisation test's chunks) ``M = C'RF (F'WF)^-1`` is solved once
    with G right-hand sides, then ``C'RZ - M F'WZ`` is one group sum and one GEMM,
    without the n x m partialled-out Z.  Equal up to rounding (tested)."""
    if Z.shape[1] < G:
        return _group_sums(cluster, G, (Z - F.dot(F.wls(w, Z))) * r[:, None])
    RC = np.zeros((len(r), G))
    RC[np.arange(len(r)), cluster] = r
    M = F.solve(w, F.tdot(RC))
    return _group_sums(cluster, G, Z, r) - M.T @ F.tdot(Z, w)


def _design(
    data: pd.DataFrame, yname: str, xnames: Sequence[str], fe: Sequence[str], cluster: str
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    missing = [c for c in (yname, *xnames, *fe, cluster) if c not in data.columns]
    if missing:
        raise SpecError(f"the data have no column(s) {', '.join(missing)}", column=missing[0])
    y = pd.to_numeric(data[yname], errors="coerce").to_numpy(dtype=float)
    X = data[list(xnames)].to_numpy(dtype=float).reshape(len(data), len(xnames))
    if not (np.isfinite(y).all() and np.isfinite(X).all()):
        raise SpecError("the outcome and regressors must be finite in every row", column=yname)
    # integer codes of each fixed effect (none: an intercept)
    codes = [_string_codes(data[f])[1] for f in fe] or [np.zeros(len(data), dtype=int)]
    return y, X, codes, _string_codes(data[cluster])


def score_contributions(
    data: pd.DataFrame,
    *,
    yname: str,
    xnames: Sequence[str],
    fe: Sequence[str],
    cluster: str,
    restriction: np.ndarray | Sequence[str],
) -> ScoreContributions:
    """Restricted FE-Poisson fit under H0 and the per-cluster efficient scores.

    ``restriction`` is either the names (a subset of ``xnames``) whose coefficients are 0
    under H0, or a q x k matrix R (k = len(xnames)) for H0: R b = 0.
    """
    y, X, codes, (labels, cl) = _design(data, yname, xnames, fe, cluster)
    if isinstance(restriction, np.ndarray):
        R = np.atleast_2d(np.asarray(restriction, dtype=float))
        tested_names = tuple(f"R[{i}]" for i in range(R.shape[0]))
    else:
        tested_names = tuple(restriction)
        unknown = [t for t in tested_names if t not in xnames]
        if unknown or not tested_names:
            raise SpecError(
                f"tested term(s) {', '.join(unknown) or '(none)'} not among xnames",
                column="restriction",
            )
        R = np.zeros((len(tested_names), len(xnames)))
        for i, t in enumerate(tested_names):
            R[i, list(xnames).index(t)] = 1.0
    Xr, Z = _reparametrise(X, R)
    mu, keep, active = restricted_fit(y, Xr, codes)
    present, cl_codes = np.unique(cl[keep], return_inverse=True)
    cl_labels = labels[present]
    kept_codes = [np.unique(c[keep], return_inverse=True)[1] for c in codes]
    scores = project_scores(y[keep], mu, Xr[keep][:, active], Z[keep], kept_codes, cl_codes)
    return ScoreContributions(scores, cl_labels, mu, keep, tested_names)


def score_statistics(scores: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``W = S' V^-1 S`` for the observed scores (weights None) or per row of B x G weights.

    Vectorised over draws: S* = w @ s (B x q) and V* = sum_g w_bg^2 s_g s_g' (B x q x q,
    one GEMM of w^2 with the G x q^2 outer products).  V*^-1 is the pseudo-inverse
    (`pinv_quadratic`): a draw whose V* is zero gets W* = 0.
    """
    s = np.asarray(scores, dtype=float)
    if weights is None and s.shape[1] > 1:  # one draw (randomisation: one per assignment)
        return pinv_quadratic(s.sum(axis=0)[None], (s.T @ s)[None])
    w = np.ones((1, s.shape[0])) if weights is None else np.asarray(weights, dtype=float)
    S = w @ s
    if s.shape[1] == 1:
        V = (w**2) @ (s[:, 0] ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(V > 0, S[:, 0] ** 2 / V, 0.0)
    else:
        outer = (s[:, :, None] * s[:, None, :]).reshape(s.shape[0], -1)
        out = pinv_quadratic(S, ((w**2) @ outer).reshape(len(w), s.shape[1], s.shape[1]))
    return out if weights is not None else out[:1]


def pinv_quadratic(S: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``S_b' V_b^+ S_b`` per row b (S: B x q, V: B x q x q symmetric), with the
    pseudo-inverse of ``numpy.linalg.pinv(V, rcond=1e-10, hermitian=True)`` applied in the
    eigenbasis without forming it: ``sum_j (u_j'S)^2 / l_j`` over ``|l_j| > 1e-10 max |l|``."""
    lam, U = np.linalg.eigh(V)
    coords = np.matmul(np.swapaxes(U, 1, 2), S[:, :, None])[:, :, 0]
    size = np.abs(lam)
    keep = size > 1e-10 * size.max(axis=1, keepdims=True)
    return np.where(keep, coords**2 / np.where(keep, lam, 1.0), 0.0).sum(axis=1)


def wild_score_test(
    data: pd.DataFrame,
    *,
    yname: str,
    xnames: Sequence[str],
    fe: Sequence[str],
    cluster: str,
    restriction: np.ndarray | Sequence[str],
    B: int = 999,
    weights: str = "webb",
    seed: int | None = 0,
    weight_matrix: np.ndarray | None = None,
) -> WildScoreTest:
    """Wild cluster score bootstrap test of H0 in ``yname ~ xnames | fe`` (FE-Poisson).

    ``restriction``: names tested = 0, or a q x k matrix R (H0: R b = 0).  ``B`` draws of
    ``weights`` from ``seed`` (`bootstrap_weights`), or a fixed B x G ``weight_matrix``
    (clusters in sorted order of their labels as strings; used to match an independent
    implementation draw for draw).  See the module docstring for the statistic.
    """
    sc = score_contributions(
        data, yname=yname, xnames=xnames, fe=fe, cluster=cluster, restriction=restriction
    )
    G, q = sc.scores.shape
    if G < 2:
        raise EstimationError("the wild cluster bootstrap needs at least two clusters")
    given = weight_matrix is not None
    if weight_matrix is None:
        weight_matrix = bootstrap_weights(G, B, weights, seed)
    elif weight_matrix.shape[1] != G:
        raise SpecError(f"weight_matrix needs {G} columns (clusters), got {weight_matrix.shape}")
    observed = float(score_statistics(sc.scores)[0])
    draws = score_statistics(sc.scores, weight_matrix)
    rank = int(np.linalg.matrix_rank(sc.scores.T @ sc.scores)) if q > 1 else 1
    tol = 1e-12 * max(1.0, abs(observed))
    return WildScoreTest(
        tested=sc.tested,
        statistic=observed,
        df=rank,
        p_analytic=float(stats.chi2.sf(observed * (G - 1) / G, rank)),
        p_bootstrap=float(np.mean(draws >= observed - tol)),
        B=int(weight_matrix.shape[0]),
        weights="given" if given else weights,
        seed=None if given else seed,
        n_clusters=G,
    )
