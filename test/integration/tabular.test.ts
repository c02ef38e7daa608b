/**
 * The paper's tabular experiment (Fig. 9) on real ADBench tables, through the same protocol code
 * the CLI's `eval` uses: 60 % of normal rows train, permutation contrast.
 * Reference (PyTorch, H = 128, 1,500 steps, 3 seeds): thyroid CF 98.1 / Flow 98.0 / ratio 43.1
 * (21–73 by seed); cardio CF 92.4 / Flow 92.5 / ratio 90.8. CI trains smaller and shorter
 * (wasm is slow), one seed; the margins below are what that setting reaches with room to spare.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjs } from '../../src/main/engine/backend/tfjsBackend';
import { loadTable } from '../../src/main/engine/data/table';
import { defaultDetectorConfig, type DetectorConfig } from '../../src/main/engine/detector/fitDetector';
import type { Method } from '../../src/main/engine/detector/methods';
import { runTabularProtocol } from '../../src/main/engine/eval/tabularProtocol';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tabular = path.resolve(root, '../shared/data/tabular');
const haveData = fs.existsSync(path.join(tabular, 'thyroid.csv'));
if (!haveData) console.warn(`skipping tabular tests: ${tabular} is missing (../shared/data from the repo)`);

beforeAll(async () => {
  await initTfjs();
});

async function run(
  file: string,
  methods: Method[],
  eps: DetectorConfig['eps'] = { mode: 'fixed', value: 0 },
) {
  const table = loadTable(path.join(tabular, file), { labelColumn: 'label', requireLabel: true });
  const res = await runTabularProtocol(table, methods, [0], (m, seed) => {
    const c = defaultDetectorConfig(m, 'standardize');
    c.flow = { ...c.flow, blocks: 4, hidden: 64 };
    c.train = { ...c.train, steps: 400, seed };
    c.eps = eps;
    return c;
  });
  const by = Object.fromEntries(res.methods.map((r) => [r.method, r.mean * 100]));
  const notes = Object.fromEntries(res.methods.map((r) => [r.method, r.notes.join(' ')]));
  console.log(`${file}: ${res.methods.map((r) => `${r.method} ${(r.mean * 100).toFixed(1)}`).join(', ')}`);
  return { ...(by as Record<Method, number>), notes: notes as Record<Method, string> };
}

describe.skipIf(!haveData)('tabular, permutation contrast (paper Fig. 9)', () => {
  it('thyroid: CF ≈ Flow (≈ 98); Flow-ratio far below them but no longer collapsed', async () => {
    const a = await run('thyroid.csv', ['cf', 'flow', 'ratio']);
    expect(a.cf).toBeGreaterThan(94);
    expect(a.flow).toBeGreaterThan(94);
    expect(Math.abs(a.cf - a.flow)).toBeLessThan(3);
    // the reference's ratio is 43.1 (21–73 by seed); before its contrast flow saw fresh
    // permutation samples, ours memorised a fixed sample and gave 1.7
    expect(a.ratio).toBeGreaterThan(20);
    expect(a.ratio).toBeLessThan(a.cf - 5);
  }, 600_000);

  it("thyroid with the paper's auto ε rule (held-out 10 % quantile + ln 10): the contrast term fires and CF stays ≈ Flow", async () => {
    const a = await run('thyroid.csv', ['cf'], { mode: 'auto', quantile: 0.1, offset: Math.log(10) });
    expect(a.notes.cf).not.toMatch(/contrast term was off/);
    expect(a.cf).toBeGreaterThan(95);
  }, 600_000);

  it('cardio: CF within a few points of Flow', async () => {
    // At this CI budget (H = 64, 4 blocks, 400 steps) Flow reaches ≈ 82 here; a PyTorch replica
    // of the same recipe gives 82–86 on its splits (and 88–90 at H = 128, 1,500 steps), below the
    // reference's 92.5 — see the closing note of the engine issue.
    const a = await run('cardio.csv', ['cf', 'flow']);
    expect(a.cf).toBeGreaterThan(77);
    expect(a.flow).toBeGreaterThan(77);
    expect(Math.abs(a.cf - a.flow)).toBeLessThan(4);
  }, 600_000);
});
