import { describe, it, expect } from 'vitest';
import type { Matrix } from '../../src/main/engine/util/matrix';
import { vstack } from '../../src/main/engine/util/matrix';
import { Rng } from '../../src/main/engine/util/rng';
import { UserError } from '../../src/main/engine/util/errors';
import { auroc } from '../../src/main/engine/eval/auroc';
import { symmetricEigen } from '../../src/main/engine/baselines/eigen';
import { fitMse, scoreMse } from '../../src/main/engine/baselines/mse';
import { fitMseRatio, scoreMseRatio } from '../../src/main/engine/baselines/mseRatio';
import { fitKnn, scoreKnn } from '../../src/main/engine/baselines/knn';
import { fitKde, scoreKde, scottBandwidth } from '../../src/main/engine/baselines/kde';
import { fitPca, scorePca } from '../../src/main/engine/baselines/pca';
import {
  BASELINE_KINDS,
  fitBaseline,
  scoreBaseline,
  type BaselineKind,
} from '../../src/main/engine/baselines/index';

function mat(rows: number[][]): Matrix {
  const cols = rows[0].length;
  return { rows: rows.length, cols, data: Float32Array.from(rows.flat()) };
}

function randn(rng: Rng, rows: number, cols: number, scale = 1, offset = 0): Matrix {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = offset + scale * rng.normal();
  return { rows, cols, data };
}

function sqDist(a: Matrix, i: number, b: Matrix, j: number): number {
  let s = 0;
  for (let c = 0; c < a.cols; c++) {
    const d = a.data[i * a.cols + c] - b.data[j * b.cols + c];
    s += d * d;
  }
  return s;
}

describe('symmetricEigen (Jacobi)', () => {
  it('solves the 3×3 second-difference matrix', () => {
    // eigenvalues 2 + √2, 2, 2 − √2 with eigenvectors (1, −√2, 1)/2, (1, 0, −1)/√2, (1, √2, 1)/2
    const { values, vectors } = symmetricEigen([2, -1, 0, -1, 2, -1, 0, -1, 2], 3);
    const r2 = Math.SQRT2;
    expect(values[0]).toBeCloseTo(2 + r2, 12);
    expect(values[1]).toBeCloseTo(2, 12);
    expect(values[2]).toBeCloseTo(2 - r2, 12);
    const expected = [
      [0.5, -r2 / 2, 0.5],
      [1 / r2, 0, -1 / r2],
      [0.5, r2 / 2, 0.5],
    ];
    for (let j = 0; j < 3; j++) {
      const v = [vectors[j], vectors[3 + j], vectors[6 + j]];
      const sign = Math.sign(v[0]) * Math.sign(expected[j][0]);
      for (let i = 0; i < 3; i++) expect(sign * v[i]).toBeCloseTo(expected[j][i], 12);
    }
  });

  it('satisfies A·v = λ·v and VᵀV = I on a random symmetric 20×20', () => {
    const rng = new Rng(5);
    const n = 20;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        const v = rng.normal();
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    }
    const { values, vectors } = symmetricEigen(a, n);
    let trace = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      trace += a[i * n + i];
      sum += values[i];
      if (i > 0) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
    }
    expect(sum).toBeCloseTo(trace, 10);
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[i * n + k] * vectors[k * n + j];
        expect(Math.abs(av - values[j] * vectors[i * n + j])).toBeLessThan(1e-10);
      }
      for (let k = 0; k < n; k++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += vectors[i * n + j] * vectors[i * n + k];
        expect(Math.abs(dot - (j === k ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('handles diagonal and zero matrices', () => {
    const d = symmetricEigen([1, 0, 0, 0, 3, 0, 0, 0, 2], 3);
    expect(Array.from(d.values)).toEqual([3, 2, 1]);
    const z = symmetricEigen(new Float64Array(4), 2);
    expect(Array.from(z.values)).toEqual([0, 0]);
  });
});

describe('mse / mse-ratio', () => {
  it('mse scores ‖x − μ‖²', () => {
    const st = fitMse(
      mat([
        [0, 0],
        [2, 0],
        [0, 4],
      ]),
    ); // μ = (2/3, 4/3)
    const s = scoreMse(
      st,
      mat([
        [2 / 3, 4 / 3],
        [0, 0],
        [3, -1],
      ]),
    );
    expect(s[0]).toBeCloseTo(0, 6);
    expect(s[1]).toBeCloseTo(4 / 9 + 16 / 9, 5);
    expect(s[2]).toBeCloseTo((3 - 2 / 3) ** 2 + (-1 - 4 / 3) ** 2, 5);
  });

  it('mse-ratio scores ‖x − μp‖² − ‖x − μq‖²', () => {
    const st = fitMseRatio(
      mat([
        [0, 0],
        [2, 2],
      ]),
      mat([
        [4, 0],
        [6, 0],
      ]),
    ); // μp = (1,1), μq = (5,0)
    const s = scoreMseRatio(
      st,
      mat([
        [1, 1],
        [5, 0],
        [0, 0],
      ]),
    );
    expect(s[0]).toBeCloseTo(0 - 17, 5);
    expect(s[1]).toBeCloseTo(17 - 0, 5);
    expect(s[2]).toBeCloseTo(2 - 25, 5);
  });
});

describe('knn', () => {
  function bruteKnn(train: Matrix, q: Matrix, k: number, method: 'largest' | 'mean'): number[] {
    const out: number[] = [];
    for (let i = 0; i < q.rows; i++) {
      const d: number[] = [];
      for (let j = 0; j < train.rows; j++) d.push(Math.sqrt(sqDist(q, i, train, j)));
      d.sort((a, b) => a - b);
      const best = d.slice(0, k);
      out.push(method === 'largest' ? best[k - 1] : best.reduce((s, v) => s + v, 0) / k);
    }
    return out;
  }

  it('agrees with brute force (odd sizes, offset data, both methods)', () => {
    const rng = new Rng(21);
    // far from the origin: the ‖a‖²+‖b‖²−2a·b expansion must not cancel
    const train = randn(rng, 301, 7, 1, 1000);
    const query = randn(rng, 53, 7, 1.5, 1000);
    for (const k of [1, 5, 13]) {
      for (const method of ['largest', 'mean'] as const) {
        const got = scoreKnn(fitKnn(train, { k, method }), query);
        const want = bruteKnn(train, query, k, method);
        for (let i = 0; i < query.rows; i++) expect(got[i]).toBeCloseTo(want[i], 3);
      }
    }
  });

  it('agrees with brute force on 128-dimensional features', () => {
    const rng = new Rng(22);
    const train = randn(rng, 517, 128);
    const query = randn(rng, 70, 128);
    const got = scoreKnn(fitKnn(train), query);
    const want = bruteKnn(train, query, 5, 'largest');
    for (let i = 0; i < query.rows; i++) expect(got[i]).toBeCloseTo(want[i], 4);
  });

  it('counts a training point as its own neighbour', () => {
    const train = mat([[0], [1], [3], [7]]);
    expect(Array.from(scoreKnn(fitKnn(train, { k: 1 }), train))).toEqual([0, 0, 0, 0]);
    expect(Array.from(scoreKnn(fitKnn(train, { k: 2 }), train))).toEqual([1, 1, 2, 4]);
    expect(scoreKnn(fitKnn(train, { k: 3, method: 'mean' }), mat([[2]]))[0]).toBeCloseTo((1 + 1 + 2) / 3, 6);
  });

  it('guards k against the training size', () => {
    const train = mat([[0], [1], [2]]);
    expect(() => fitKnn(train, { k: 3 })).toThrow(UserError);
    expect(() => fitKnn(train, { k: 0 })).toThrow(UserError);
    try {
      fitKnn(train, { k: 5 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).hint).toMatch(/k ≤ 2/);
    }
  });
});

describe('kde', () => {
  function directKde(train: Matrix, q: Matrix, h: number): number[] {
    const d = train.cols;
    const out: number[] = [];
    for (let i = 0; i < q.rows; i++) {
      let p = 0;
      for (let j = 0; j < train.rows; j++) {
        p += Math.exp(-sqDist(q, i, train, j) / (2 * h * h)) / Math.pow(2 * Math.PI * h * h, d / 2);
      }
      out.push(-Math.log(p / train.rows));
    }
    return out;
  }

  it('agrees with a direct float64 sum (given and Scott bandwidths)', () => {
    const rng = new Rng(31);
    const train = randn(rng, 40, 3);
    const query = randn(rng, 25, 3, 1.5);
    for (const bandwidth of [0.3, 1.7, undefined]) {
      const st = fitKde(train, { bandwidth });
      const h = st.params.bandwidth;
      const got = scoreKde(st, query);
      const want = directKde(train, query, h);
      for (let i = 0; i < query.rows; i++) expect(got[i]).toBeCloseTo(want[i], 4);
    }
  });

  it("uses Scott's rule h = n^(−1/(d+4)) · mean sample std", () => {
    // columns: [0, 2, 4, 6] → sample std √(20/3); [1, 1, 1, 5] → sample std 2
    const m = mat([
      [0, 1],
      [2, 1],
      [4, 1],
      [6, 5],
    ]);
    const want = Math.pow(4, -1 / 6) * ((Math.sqrt(20 / 3) + 2) / 2);
    expect(scottBandwidth(m)).toBeCloseTo(want, 6);
    expect(fitKde(m).params.bandwidth).toBeCloseTo(want, 6);
  });

  it('gives a finite, large score far away (log-sum-exp)', () => {
    const train = mat([
      [0, 0],
      [1, 0],
      [0, 1],
    ]);
    const h = 0.5;
    const st = fitKde(train, { bandwidth: h });
    const far = scoreKde(st, mat([[1000, 1]]))[0];
    expect(Number.isFinite(far)).toBe(true);
    // dominated by the nearest point (1, 0) at distance 999: 999²/(2h²) + log 3 + log(2πh²)
    const want = (999 * 999) / (2 * h * h) + Math.log(3) + Math.log(2 * Math.PI * h * h);
    expect(far).toBeCloseTo(want, -1);
    expect(Math.abs(far - want) / want).toBeLessThan(1e-6);
  });

  it('rejects constant training data without a bandwidth', () => {
    expect(() =>
      fitKde(
        mat([
          [1, 1],
          [1, 1],
        ]),
      ),
    ).toThrow(UserError);
    expect(() =>
      fitKde(
        mat([
          [1, 1],
          [1, 1],
        ]),
        { bandwidth: -1 },
      ),
    ).toThrow(UserError);
  });
});

describe('pca', () => {
  it('has zero reconstruction error in the kept subspace and the orthogonal distance outside', () => {
    const rng = new Rng(41);
    // 6-d data on a 2-d plane through μ0 spanned by b1, b2 (orthonormal)
    const mu0 = [3, -1, 2, 0, 5, 1];
    const b1 = [1, 1, 0, 0, 0, 0].map((v) => v / Math.SQRT2);
    const b2 = [0, 0, 1, 0, 0, 1].map((v) => v / Math.SQRT2);
    const rowsOn = (n: number): number[][] =>
      Array.from({ length: n }, () => {
        const a = 3 * rng.normal();
        const b = rng.normal();
        return mu0.map((m, i) => m + a * b1[i] + b * b2[i]);
      });
    const st = fitPca(mat(rowsOn(200)));
    expect(st.params.components).toBe(2);
    expect(st.tensors.components.rows).toBe(2);
    const on = scorePca(st, mat(rowsOn(20)));
    for (const e of on) expect(e).toBeLessThan(1e-8);
    // add c·u with u ⟂ plane: error = c²
    const u = [1, -1, 0, 0, 0, 0].map((v) => v / Math.SQRT2);
    const off = rowsOn(5).map((r, i) => r.map((v, j) => v + (i + 1) * u[j]));
    const s = scorePca(st, mat(off));
    for (let i = 0; i < 5; i++) expect(s[i]).toBeCloseTo((i + 1) ** 2, 4);
  });

  it('keeps the fewest components explaining varianceKept', () => {
    const rng = new Rng(42);
    // per-dim std 10, 3, 1, 0.1 → variances 100, 9, 1, 0.01 (total 110.01)
    const sd = [10, 3, 1, 0.1];
    const rows = Array.from({ length: 4000 }, () => sd.map((s) => s * rng.normal()));
    const m = mat(rows);
    expect(fitPca(m, { varianceKept: 0.5 }).params.components).toBe(1); // 0.91
    expect(fitPca(m, { varianceKept: 0.95 }).params.components).toBe(2); // 0.9908
    expect(fitPca(m, { varianceKept: 0.995 }).params.components).toBe(3); // 0.9999
    expect(fitPca(m, { varianceKept: 1 }).params.components).toBe(4);
    expect(fitPca(m, { components: 3 }).params.components).toBe(3);
    expect(() => fitPca(m, { varianceKept: 0 })).toThrow(UserError);
  });
});

describe('fitBaseline / scoreBaseline', () => {
  // inliers: anisotropic blob (std 1 on 3 dims, 0.1 on 5 more); anomalies: far cluster
  // along dim 5 (off the inliers' main subspace); contrast: a broader blob towards it
  const rng = new Rng(51);
  const d = 8;
  const sd = [1, 1, 1, 0.1, 0.1, 0.1, 0.1, 0.1];
  const blob = (n: number): Matrix => {
    const m = randn(rng, n, d);
    for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) m.data[i * d + c] *= sd[c];
    return m;
  };
  const shifted = (n: number, at: number, scale: number): Matrix => {
    const m = randn(rng, n, d, scale);
    for (let i = 0; i < n; i++) m.data[i * d + 5] += at;
    return m;
  };
  const train = blob(400);
  const contrast = shifted(400, 4, 1);
  const testIn = blob(200);
  const testOut = shifted(60, 6, 0.5);
  const test = vstack([testIn, testOut]);
  const labels = [...new Array(200).fill(0), ...new Array(60).fill(1)];

  for (const kind of BASELINE_KINDS) {
    it(`${kind} separates the blob from far points (AUROC > 0.95)`, () => {
      const st = fitBaseline(kind, train, contrast);
      expect(st.kind).toBe(kind);
      const s = scoreBaseline(st, test);
      expect(s.length).toBe(test.rows);
      expect(auroc(s, labels)).toBeGreaterThan(0.95);
    });
  }

  it('non-linear baselines also flag far points in random directions', () => {
    const far = randn(rng, 50, d);
    for (let i = 0; i < 50; i++) {
      let n = 0;
      for (let c = 0; c < d; c++) n += far.data[i * d + c] ** 2;
      for (let c = 0; c < d; c++) far.data[i * d + c] *= 6 / Math.sqrt(n);
    }
    const x = vstack([testIn, far]);
    const y = [...new Array(200).fill(0), ...new Array(50).fill(1)];
    for (const kind of ['mse', 'knn', 'kde', 'pca'] as BaselineKind[]) {
      expect(auroc(scoreBaseline(fitBaseline(kind, train, null), x), y)).toBeGreaterThan(0.95);
    }
  });

  it('dispatches with the same result as the direct functions and passes options', () => {
    expect(
      Array.from(scoreBaseline(fitBaseline('knn', train, null, { k: 3, method: 'mean' }), testOut)),
    ).toEqual(Array.from(scoreKnn(fitKnn(train, { k: 3, method: 'mean' }), testOut)));
    expect(fitBaseline('kde', train, null, { bandwidth: 0.7 }).params.bandwidth).toBe(0.7);
    expect(fitBaseline('pca', train, null, { components: 1 }).params.components).toBe(1);
  });

  it('gives clear errors', () => {
    expect(() => fitBaseline('mse-ratio', train, null)).toThrow(/contrast/);
    expect(() => fitBaseline('mse-ratio', train, null)).toThrow(UserError);
    expect(() => fitBaseline('bogus' as BaselineKind, train, null)).toThrow(UserError);
    expect(() => fitBaseline('mse', { rows: 0, cols: 8, data: new Float32Array(0) }, null)).toThrow(
      UserError,
    );
    const bad = blob(3);
    bad.data[4] = NaN;
    expect(() => fitBaseline('knn', vstack([train, bad]), null)).toThrow(/non-finite/);
    const st = fitBaseline('mse', train, null);
    expect(() => scoreBaseline(st, randn(rng, 2, 5))).toThrow(UserError);
    expect(() => fitBaseline('mse-ratio', train, randn(rng, 10, 3))).toThrow(UserError);
  });
});
