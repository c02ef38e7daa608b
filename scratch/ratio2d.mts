import { initTfjs } from '../src/main/engine/backend/tfjsBackend';
import { defaultDetectorConfig, fitDetector } from '../src/main/engine/detector/fitDetector';
import { flowLogProb } from '../src/main/engine/flow/flowModel';
import { Rng } from '../src/main/engine/util/rng';
await initTfjs();
const g = (n: number, m: number[], seed: number) => { const r = new Rng(seed); const d = new Float32Array(n * 2); for (let i = 0; i < n; i++) { d[2 * i] = m[0] + r.normal(); d[2 * i + 1] = m[1] + r.normal(); } return { rows: n, cols: 2, data: d }; };
const N = Number(process.env.N ?? 4000); const inl = g(N, [1, 1], 11), con = g(N, [0, 0], 12);
const pts = { rows: 4, cols: 2, data: Float32Array.from([1, 1, 0, 0, -4.24, -4.24, -6, 0]) };
for (const [steps, hidden, blocks, noise] of [[800, 64, 6, 0], [1500, 64, 6, 0]] as const) {
  const c = defaultDetectorConfig('ratio', 'none');
  c.flow = { ...c.flow, blocks, hidden }; c.train = { ...c.train, steps, noiseStd: noise, seed: 3 };
  const det = await fitDetector({ inliers: inl, columns: ['a', 'b'], contrast: con }, c);
  const lp = flowLogProb(det.flows[0], pts), lq = flowLogProb(det.flows[1], pts);
  console.log(steps, hidden, blocks, noise, 'logp', Array.from(lp).map((v) => v.toFixed(1)), 'logq', Array.from(lq).map((v) => v.toFixed(1)), 'true logp', [-1.84, -2.84, -29.3, -26.3], 'true logq', [-2.84, -1.84, -19.8, -19.8]);
}
