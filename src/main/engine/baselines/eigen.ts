/**
 * Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method (float64):
 *
 *   A = V · diag(λ) · Vᵀ,   VᵀV = I,
 *
 * found by plane rotations A ← Jᵀ A J, each zeroing one off-diagonal a_pq with
 *   θ = (a_qq − a_pp) / (2 a_pq),  t = sgn θ / (|θ| + √(θ² + 1)),  c = 1/√(t² + 1),  s = t·c,
 * sweeping over all p < q until the off-diagonal mass is negligible. O(n³) per sweep; meant
 * for n ≤ a few hundred (PCA covariances).
 */

export interface SymmetricEigen {
  /** eigenvalues, sorted descending */
  values: Float64Array;
  /**
   * eigenvectors as columns, row-major n×n: vectors[i * n + j] is component i of the
   * eigenvector of values[j] (like numpy.linalg.eigh, but in descending order)
   */
  vectors: Float64Array;
  /** number of sweeps used */
  sweeps: number;
}

/**
 * `a` is an n×n row-major symmetric matrix (only (a + aᵀ)/2 is used). Throws if it does not
 * converge within `maxSweeps` (default 100), which for symmetric input does not happen.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number, maxSweeps = 100): SymmetricEigen {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw new Error(`symmetricEigen: expected ${n}×${n} = ${n * n} values, got ${a.length}`);
  }
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) A[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
  }
  for (let i = 0; i < n * n; i++) {
    if (!Number.isFinite(A[i])) throw new Error('symmetricEigen: matrix has non-finite entries');
  }
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;

  let frob2 = 0;
  for (let i = 0; i < n * n; i++) frob2 += A[i] * A[i];
  const tol = frob2 * 1e-28; // off-diagonal squared mass: off-norm ≤ 1e-14·‖A‖_F

  let sweeps = 0;
  for (;;) {
    let off2 = 0;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) off2 += A[p * n + q] * A[p * n + q];
    }
    if (off2 <= tol || off2 === 0) break;
    if (sweeps >= maxSweeps) {
      throw new Error(`symmetricEigen: no convergence after ${maxSweeps} sweeps`);
    }
    sweeps++;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const app = A[p * n + p];
        const aqq = A[q * n + q];
        // negligible against both diagonal entries: set to zero (Numerical Recipes' test)
        const g = 100 * Math.abs(apq);
        if (sweeps > 4 && Math.abs(app) + g === Math.abs(app) && Math.abs(aqq) + g === Math.abs(aqq)) {
          A[p * n + q] = 0;
          A[q * n + p] = 0;
          continue;
        }
        const theta = (aqq - app) / (2 * apq);
        let t: number;
        if (Math.abs(theta) > 1e150) t = 0.5 / theta;
        else t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← A·J (columns p, q)
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p];
          const akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        // A ← Jᵀ·A (rows p, q)
        const po = p * n;
        const qo = q * n;
        for (let k = 0; k < n; k++) {
          const apk = A[po + k];
          const aqk = A[qo + k];
          A[po + k] = c * apk - s * aqk;
          A[qo + k] = s * apk + c * aqk;
        }
        A[po + q] = 0;
        A[qo + p] = 0;
        // V ← V·J
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p];
          const vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }

  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const src = order[j];
    values[j] = A[src * n + src];
    for (let i = 0; i < n; i++) vectors[i * n + j] = V[i * n + src];
  }
  return { values, vectors, sweeps };
}
