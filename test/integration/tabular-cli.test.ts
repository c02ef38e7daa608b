/**
 * Real data through the CLI: the paper's tabular protocol on thyroid (ODDS) with the fast
 * baselines. Reference AUROCs (our PyTorch reference): MSE 98.1, KNN 98.6.
 * Skipped when the shared data folder (../shared/data next to the repo) is not there.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = path.resolve(repoRoot, '../shared/data');
const thyroid = path.join(dataDir, 'tabular', 'thyroid.csv');
const missing = !fs.existsSync(thyroid);

describe('tabular protocol on real data (cfstudio eval)', () => {
  it.skipIf(missing)(
    missing
      ? `SKIPPED: ${thyroid} not found (the shared data folder ${dataDir} is missing)`
      : 'thyroid: MSE, KNN and KDE each reach AUROC > 90',
    () => {
      const env = { ...process.env };
      delete env.CFSTUDIO_DEBUG;
      const r = spawnSync(
        process.execPath,
        [
          'bin/cfstudio.mjs',
          'eval',
          '--data',
          thyroid,
          '--label-column',
          'label',
          '--methods',
          'mse,knn,kde',
          '--seeds',
          '1',
        ],
        { cwd: repoRoot, encoding: 'utf8', env, timeout: 90_000 },
      );
      if (r.error) throw r.error;
      const ctx = `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
      expect(r.status, ctx).toBe(0);
      expect(r.stdout, ctx).toMatch(/thyroid\.csv: \d+ rows, \d+ features, \d+ anomalies/);

      const aurocs = new Map<string, number>();
      for (const line of r.stdout.split('\n')) {
        const m = /^(MSE|KNN|KDE)\s+(\d+(?:\.\d+)?) ± \d+(?:\.\d+)?\s*$/.exec(line);
        if (m) aurocs.set(m[1], Number(m[2]));
      }
      expect([...aurocs.keys()].sort(), ctx).toEqual(['KDE', 'KNN', 'MSE']);
      for (const [method, a] of aurocs) {
        expect(a, `${method} AUROC ${a}\n${ctx}`).toBeGreaterThan(90);
        expect(a, `${method} AUROC ${a} is a percentage`).toBeLessThanOrEqual(100);
      }
    },
  );
});
