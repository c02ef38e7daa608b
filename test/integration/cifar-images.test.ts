/**
 * The image pipeline end to end on real data: the shared CIFAR-10 JPEGs and the real MoCo ONNX
 * model through the `cfstudio` CLI into one SQLite workspace — dataset scan, extraction (with
 * a parity check against a straight onnxruntime-node run and a cache-hit check), and the
 * paper's one-vs-rest protocol for two inlier classes (deer, automobile) with CF next to Flow,
 * Flow-ratio, MSE and KNN.
 *
 * CI budget: the flows are smaller than the paper's (H = 128, 4 blocks, 400 steps instead of
 * H = 512, 8 blocks, 1,000 steps: training on wasm is slow); the full 10-class table at
 * reference settings is `npm run bench:one-vs-rest`. Reference (REFERENCE.md, H = 512):
 * deer CF 90.8 · Flow 85.5 · ratio 85.9 · MSE 85.7 · KNN 88.8; automobile CF 96.9 · Flow 93.5 ·
 * ratio 93.7 · MSE 90.6 · KNN 95.4.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/main/engine/data/images';
import { Workspace } from '../../src/main/engine/store';
import { cliWith, expectOk, sharedDir } from '../helpers/cli';
import {
  cifarDir as cifar,
  cifarMissing as missing,
  copyCifarWorkspace,
  mocoModel as model,
  type CifarTemplateMeta,
} from '../helpers/cifarWorkspace';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-cifar-'));
const wsFile = path.join(dir, 'ws.cfstudio');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => cliWith({ timeoutMs: 900_000 }, ...args, '--workspace', wsFile);
const ctxOf = (r: { status: number | null; stdout: string; stderr: string }) =>
  `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr.slice(-4000)}`;

describe.skipIf(missing)(
  missing
    ? `SKIPPED: CIFAR-10 images or the MoCo model not found under ${sharedDir}`
    : 'CIFAR-10 + MoCo through the CLI',
  () => {
    // the registration and the first extraction ran through the CLI once for every test that
    // needs them (test/helpers/cifarWorkspace.ts); their outputs are checked here
    let meta: CifarTemplateMeta;
    beforeAll(() => {
      meta = copyCifarWorkspace(dir).meta;
    }, 1_800_000);

    it('registers the MoCo model (spec from the catalog) and both image folders with their labels', () => {
      const ex = meta.extractorAdd;
      expectOk(ex);
      expect(ex.stdout).toMatch(/images NCHW 32×32 RGB/);
      expect(ex.stdout).toMatch(/spec from catalog/);
      expect(ex.stdout).toMatch(/→ 128-d features/);
      for (const name of ['cifar-train', 'cifar-test'] as const) {
        const r = meta.datasetAdd[name];
        expectOk(r);
        expect(r.stdout, ctxOf(r)).toContain(`"${name}"`);
        expect(r.stdout, ctxOf(r)).toMatch(
          /10000 images, 10 labels \(airplane 1000, automobile 1000, bird 1000/,
        );
      }
    });

    it('extracts all 20,000 images; a second extraction is a cache hit', () => {
      for (const name of ['cifar-train', 'cifar-test'] as const) {
        const r = meta.extract[name];
        expectOk(r);
        const res = JSON.parse(r.stdout);
        expect(res, ctxOf(r)).toMatchObject({ total: 10000, extracted: 10000, cached: 0, failed: [] });
        console.log(
          `extract ${name}: ${res.imagesPerSec.toFixed(0)} img/s (decode ${res.decodeSeconds.toFixed(1)} s, model ${res.modelSeconds.toFixed(1)} s, provider ${res.provider})`,
        );
      }
      const firstExtractSeconds = meta.extractSecondsPer10k;
      const t1 = performance.now();
      const again = run('extract', 'cifar-test', '--json');
      const secondSeconds = (performance.now() - t1) / 1000;
      expectOk(again);
      expect(JSON.parse(again.stdout)).toMatchObject({ total: 10000, extracted: 0, cached: 10000 });
      console.log(
        `cache hit: ${firstExtractSeconds.toFixed(1)} s → ${secondSeconds.toFixed(1)} s per 10k images (incl. CLI start)`,
      );
      expect(secondSeconds).toBeLessThan(firstExtractSeconds / 3);
    }, 900_000);

    it('stored features equal a straight onnxruntime-node run on the same decoded pixels (max abs diff < 1e-4)', async () => {
      const ws = Workspace.open(wsFile);
      const files: string[] = [];
      const hashes: string[] = [];
      try {
        const ds = ws.datasets.byName('cifar-test')!;
        const ex = ws.extractors.byName('moco')!;
        const items = ws.items.list(ds.id, { status: 'ok' }).filter((_, i) => i % 157 === 0);
        for (const it of items) {
          files.push(path.join(ds.root, it.relPath));
          hashes.push(it.contentHash!);
        }
        const stored = ws.features.load(ex.id, hashes);
        expect(stored.dim).toBe(128);
        const n = files.length;
        const x = new Float32Array(n * 3 * 32 * 32);
        for (let k = 0; k < n; k++) {
          const px = await decodeImage(files[k], { width: 32, height: 32, resize: 'squash' });
          for (let c = 0; c < 3; c++)
            for (let p = 0; p < 32 * 32; p++) x[k * 3072 + c * 1024 + p] = px[p * 3 + c] / 255;
        }
        const session = await ort.InferenceSession.create(model);
        const out = await session.run({ images: new ort.Tensor('float32', x, [n, 3, 32, 32]) });
        const ref = out.embedding.data as Float32Array;
        let maxDiff = 0;
        for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - stored.matrix[i]));
        console.log(`parity on ${n} test images: max |diff| = ${maxDiff.toExponential(2)}`);
        expect(maxDiff).toBeLessThan(1e-4);
        // and not trivially: the features differ between images
        expect(Math.abs(ref[0] - ref[128])).toBeGreaterThan(1e-3);
        await session.release();
      } finally {
        ws.close();
      }
    });

    it('one-vs-rest for deer and automobile: CF next to Flow, Flow-ratio, MSE and KNN; Figure 5 picks recorded', () => {
      const json = path.join(dir, 'ovr.json');
      const r = run(
        'eval',
        'one-vs-rest',
        '--data',
        'cifar-test',
        '--train',
        'cifar-train',
        '--contrast',
        'cifar-train',
        '--classes',
        'deer,automobile',
        '--methods',
        'cf,flow,ratio,mse,knn',
        '--steps',
        '400',
        '--hidden',
        '128',
        '--blocks',
        '4',
        '--matrix',
        '--json',
        json,
        '--quiet',
      );
      expectOk(r);
      console.log(r.stdout);
      const res = JSON.parse(fs.readFileSync(json, 'utf8'));
      const auc = (cls: string, m: string) =>
        res.runs.find((x: { inlier: string; method: string }) => x.inlier === cls && x.method === m).metrics
          .auroc;
      const table = Object.fromEntries(
        ['deer', 'automobile'].map((c) => [
          c,
          Object.fromEntries(
            ['cf', 'flow', 'ratio', 'mse', 'knn'].map((m) => [m, +(auc(c, m) * 100).toFixed(1)]),
          ),
        ]),
      );
      console.log('AUROC (%)', JSON.stringify(table));
      // honest margins at the CI budget (measured: see the closing note); the paper's claim is CF ≥ Flow
      expect(table.deer.cf).toBeGreaterThan(86);
      expect(table.automobile.cf).toBeGreaterThan(93);
      expect(table.deer.cf).toBeGreaterThan(table.deer.flow);
      expect(table.automobile.cf).toBeGreaterThan(table.automobile.flow);
      expect(table.deer.mse).toBeGreaterThan(80);
      expect(table.deer.knn).toBeGreaterThan(84);
      // the Table 2 rows: 10 columns, NaN (null in JSON) on the diagonal, every other cell an AUROC
      const row = res.matrix.cf[res.inlierClasses.indexOf('deer')];
      expect(row).toHaveLength(10);
      expect(row[res.classes.indexOf('deer')]).toBeNull();
      expect(row.filter((v: number | null) => v !== null).every((v: number) => v > 0.5 && v <= 1)).toBe(true);
      // Figure 5 picks: stored per run and printable
      const cfDeer = res.runs.find(
        (x: { inlier: string; method: string }) => x.inlier === 'deer' && x.method === 'cf',
      );
      expect(cfDeer.picks).toHaveLength(9);
      const show = run('runs', 'show', String(cfDeer.runId));
      expectOk(show);
      expect(show.stdout).toMatch(/lowest-score inliers:\n(\s+-?\d+\.\d+\s+.*deer\/\d{4}\.jpg\n){3}/);
      expect(show.stdout).toMatch(/hardest anomalies[^\n]*:\n(\s+-?\d+\.\d+\s+.*\/\d{4}\.jpg\n){3}/);
      expect(show.stdout).not.toMatch(/hardest anomalies[^\n]*:\n\s+-?\d+\.\d+\s+.*\/deer\//);
      const picks = cfDeer.picks as { group: string; score: number }[];
      const low = picks.filter((p) => p.group === 'lowest-inlier').map((p) => p.score);
      const strange = picks.filter((p) => p.group === 'strangest-inlier').map((p) => p.score);
      expect(Math.max(...low)).toBeLessThan(Math.min(...strange));
    }, 1_200_000);

    it('train on a class selector, score a new folder into a ranked CSV; dataset-vs-dataset', () => {
      const model = path.join(dir, 'deer.cfdet');
      const t = run(
        'train',
        '--inliers',
        'cifar-train:deer',
        '--contrast',
        'cifar-train',
        '--method',
        'cf',
        '--steps',
        '60',
        '--hidden',
        '32',
        '--blocks',
        '2',
        '--out',
        model,
        '--quiet',
      );
      expectOk(t);
      expect(t.stdout).toMatch(
        /saved CF \(contrastive flow\) detector for cifar-train:deer \(1000 images, extractor moco\)/,
      );
      const info = cliWith({}, 'info', model, '--json');
      expectOk(info);
      const csv = path.join(dir, 'ranked.csv');
      const horse = path.join(cifar, 'test', 'horse');
      const s = run('score', '--model', model, '--input', horse, '--out', csv, '--quiet');
      expectOk(s);
      const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
      // the saved detector carries its run's threshold, so each row says whether it is flagged
      expect(lines[0]).toBe('rank,score,log_prob,is_anomaly,path,label');
      expect(lines).toHaveLength(1001);
      const rows = lines.slice(1).map((l) => l.split(','));
      const scores = rows.map((r) => Number(r[1]));
      for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeLessThanOrEqual(scores[i - 1]);
      expect(rows.map((r) => Number(r[0]))).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      // ranked most anomalous first: the flagged rows are a prefix, and the top one is flagged
      const flagged = rows.map((r) => r[3]);
      // booleans as 1/0, as every CSV the product writes (util/csv.ts)
      expect(flagged.every((f) => f === '1' || f === '0')).toBe(true);
      expect(flagged.lastIndexOf('1')).toBe(flagged.filter((f) => f === '1').length - 1);
      expect(flagged[0]).toBe('1');
      expect(fs.existsSync(rows[0][4])).toBe(true);
      // the dataset root is stored resolved (symlinks followed), as the scan saw it
      expect(rows[0][4].startsWith(fs.realpathSync(horse))).toBe(true);
      // -log p = score for CF
      expect(Math.abs(Number(rows[0][1]) + Number(rows[0][2]))).toBeLessThan(1e-3);

      const json = path.join(dir, 'dvd.json');
      const d = run(
        'eval',
        'dataset-vs-dataset',
        '--inliers',
        'cifar-train:automobile',
        '--inlier-test',
        'cifar-test:automobile',
        '--anomalies',
        'cifar-test:truck',
        '--contrast',
        'cifar-train',
        '--methods',
        'mse,knn',
        '--json',
        json,
        '--quiet',
      );
      expectOk(d);
      const res = JSON.parse(fs.readFileSync(json, 'utf8'));
      // automobile vs truck is the hardest pair in CIFAR-10: well above chance, well below 1
      for (const m of ['mse', 'knn']) {
        expect(res.auroc[m]).toBeGreaterThan(0.6);
        expect(res.auroc[m]).toBeLessThan(0.99);
      }
      expect(res.runs[0].metrics.nInlier).toBe(1000);
      expect(res.runs[0].metrics.nAnomaly).toBe(1000);
    }, 600_000);
  },
);
