/**
 * `cfstudio export` / `import` / `info FILE.onnx` through the real CLI:
 * - thyroid (tabular): CF, Flow and Flow-ratio trained by the CLI, exported, run by ONNX Runtime:
 *   the same scores as `cfstudio score` (max |Δ| < 1e-3);
 * - CIFAR-10 with the shared MoCo model: CF on train/deer; the plain export on MoCo features and the
 *   --with-extractor export on decoded images score like `cfstudio score`; import into a fresh
 *   workspace → the same model bytes and identical scores;
 * - truncated, foreign and newer-version files: exit 2 with clear messages.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/main/engine/data/images/decodeImage';
import { loadTable } from '../../src/main/engine/data/table';
import { OnnxScorer } from '../../src/main/engine/export';
import { parseInputSpec } from '../../src/main/engine/features/inputSpec';
import { OnnxExtractor } from '../../src/main/engine/features/onnxExtractor';
import { pixelsToTensor } from '../../src/main/engine/features/pixelsToTensor';
import { resolveExtractorSpec } from '../../src/main/engine/features/resolveSpec';
import { cliWith, expectOk, expectUserError, sharedDir, type Run } from '../helpers/cli';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-export-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const run = (...args: string[]): Run => cliWith({ timeoutMs: 300_000 }, ...args);
const thyroid = path.join(sharedDir, 'data', 'tabular', 'thyroid.csv');
const moco = path.join(sharedDir, 'models', 'moco_r18_cifar10.onnx');
const cifar = path.join(sharedDir, 'data', 'cifar10');
const small = ['--steps', '60', '--hidden', '32', '--blocks', '2', '-q'];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A CSV written by `cfstudio score`: column → values (numbers where they parse). */
function readScoreCsv(file: string): Record<string, string[]> {
  const [head, ...rows] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const cols = head.split(',');
  const out: Record<string, string[]> = Object.fromEntries(cols.map((c) => [c, []]));
  for (const r of rows) r.split(',').forEach((v, i) => out[cols[i]].push(v));
  return out;
}

describe.skipIf(!fs.existsSync(thyroid))(
  fs.existsSync(thyroid) ? 'export CLI: thyroid table' : `SKIPPED: ${thyroid} not found`,
  () => {
    for (const method of ['cf', 'flow', 'ratio']) {
      it(`${method}: train → export → ONNX Runtime scores = cfstudio score`, async () => {
        const model = path.join(dir, `thyroid-${method}.cfdet`);
        const onnxFile = path.join(dir, `thyroid-${method}.onnx`);
        const contrast = method === 'flow' ? [] : ['--contrast', 'permutation'];
        expectOk(
          run(
            'train',
            '--inliers',
            thyroid,
            '--label-column',
            'label',
            '--method',
            method,
            ...contrast,
            ...small,
            '--out',
            model,
          ),
        );
        const ex = run('export', '--model', model, '--format', 'onnx', '--out', onnxFile);
        expectOk(ex);
        expect(ex.stdout).toMatch(/opset 17\): input features \[N, 6\] → score, log_prob/);
        const scores = path.join(dir, `thyroid-${method}.csv`);
        expectOk(
          run(
            'score',
            '--model',
            model,
            '--input',
            thyroid,
            '--label-column',
            'label',
            '--out',
            scores,
            '-q',
          ),
        );
        const engine = readScoreCsv(scores);
        const t = loadTable(thyroid, { labelColumn: 'label' });
        const scorer = await OnnxScorer.load(onnxFile);
        try {
          const r = await scorer.score(t.x);
          expect(maxAbsDiff(r.score, engine.score.map(Number))).toBeLessThan(1e-3);
          expect(maxAbsDiff(r.logProb, engine.log_prob.map(Number))).toBeLessThan(1e-3);
        } finally {
          await scorer.release();
        }
        const info = run('info', onnxFile);
        expectOk(info);
        expect(info.stdout).toContain(`cfstudio.method: ${method}`);
        expect(info.stdout).toMatch(/cfstudio\.threshold: none/);
        expect(info.stdout).toContain('cfstudio.feature_dim: 6');
      });
    }

    it('baselines are refused; bad and newer files give exit 2 with a clear message', () => {
      const mse = path.join(dir, 'thyroid-mse.cfdet');
      expectOk(
        run('train', '--inliers', thyroid, '--label-column', 'label', '--method', 'mse', '-q', '--out', mse),
      );
      expectUserError(
        run('export', '--model', mse, '--format', 'onnx', '--out', path.join(dir, 'mse.onnx')),
        'ONNX export supports the flow methods cf, flow, ratio, oe',
      );
      const good = fs.readFileSync(path.join(dir, 'thyroid-cf.cfdet'));
      const truncated = path.join(dir, 'truncated.cfdet');
      fs.writeFileSync(truncated, good.subarray(0, good.length - 100));
      const foreign = path.join(dir, 'foreign.cfdet');
      fs.writeFileSync(foreign, 'name,value\nx,1\n');
      const newer = path.join(dir, 'newer.cfdet');
      const nb = Buffer.from(good);
      nb.writeUInt32LE(99, 8);
      fs.writeFileSync(newer, nb);
      const ws = path.join(dir, 'bad.cfstudio');
      expectUserError(run('import', truncated, '--workspace', ws), 'damaged');
      expectUserError(run('import', foreign, '--workspace', ws), 'not a CF Studio detector file');
      expectUserError(run('import', newer, '--workspace', ws), /newer CF Studio \(detector format 99/);
      expectUserError(
        run('import', path.join(dir, 'thyroid-cf.onnx'), '--workspace', ws),
        'is an ONNX model',
      );
      expectUserError(
        run('export', '--model', newer, '--format', 'onnx', '--out', path.join(dir, 'n.onnx')),
        'newer CF Studio',
      );
      expectUserError(
        run(
          'export',
          '--model',
          path.join(dir, 'thyroid-cf.cfdet'),
          '--with-extractor',
          '--out',
          path.join(dir, 'x.onnx'),
          '--workspace',
          ws,
        ),
        'trained on table features',
      );
      const onnxBytes = fs.readFileSync(path.join(dir, 'thyroid-cf.onnx'));
      const cut = path.join(dir, 'cut.onnx');
      fs.writeFileSync(cut, onnxBytes.subarray(0, Math.floor(onnxBytes.length * 0.6)));
      expectUserError(run('info', cut), /not an ONNX model .*truncated/);
      // nothing half-written, and the refused imports left no runs
      const list = run('runs', 'list', '--json', '--workspace', ws);
      expectOk(list);
      expect(JSON.parse(list.stdout)).toEqual([]);
    });
  },
);

const haveImages = fs.existsSync(moco) && fs.existsSync(path.join(cifar, 'train', 'deer'));
describe.skipIf(!haveImages)(
  haveImages
    ? 'export CLI: CIFAR-10 deer with MoCo features'
    : `SKIPPED: shared MoCo model or CIFAR-10 images not found under ${sharedDir}`,
  () => {
    const ws1 = path.join(dir, 'one.cfstudio');
    const ws2 = path.join(dir, 'two.cfstudio');
    const model = path.join(dir, 'deer.cfdet');
    const contrastDir = path.join(dir, 'contrast');
    const testDir = path.join(dir, 'test');
    const testFiles: string[] = [];
    let engine: Map<string, number>;

    beforeAll(() => {
      // contrast: 300 training images of the other classes; test: 250 deer + 250 others
      const others = ['airplane', 'automobile', 'bird', 'cat', 'dog', 'frog', 'horse', 'ship', 'truck'];
      fs.mkdirSync(contrastDir);
      for (const c of others)
        for (let i = 0; i < 34; i++) {
          const n = String(i).padStart(4, '0');
          fs.copyFileSync(path.join(cifar, 'train', c, `${n}.jpg`), path.join(contrastDir, `${c}-${n}.jpg`));
        }
      for (const [cls, count] of [['deer', 250], ...others.map((c) => [c, 28] as const)] as const) {
        fs.mkdirSync(path.join(testDir, cls), { recursive: true });
        for (let i = 0; i < count; i++) {
          const n = String(i).padStart(4, '0');
          const to = path.join(testDir, cls, `${n}.jpg`);
          fs.copyFileSync(path.join(cifar, 'test', cls, `${n}.jpg`), to);
          testFiles.push(to);
        }
      }
      expectOk(run('extractor', 'add', moco, '--name', 'moco', '--workspace', ws1, '-q'));
      expectOk(
        run(
          'train',
          '--inliers',
          path.join(cifar, 'train', 'deer'),
          '--contrast',
          contrastDir,
          '--method',
          'cf',
          ...small,
          '--out',
          model,
          '--workspace',
          ws1,
        ),
      );
      const csv = path.join(dir, 'deer-scores.csv');
      expectOk(run('score', '--model', model, '--input', testDir, '--out', csv, '--workspace', ws1, '-q'));
      const s = readScoreCsv(csv);
      engine = new Map(s.path.map((p, i) => [p, Number(s.score[i])]));
      expect(engine.size).toBe(testFiles.length);
    }, 600_000);

    it('plain export: ONNX Runtime on MoCo features = cfstudio score; with-extractor on decoded images too', async () => {
      const plain = path.join(dir, 'deer.onnx');
      const fused = path.join(dir, 'deer-images.onnx');
      expectOk(run('export', '--model', model, '--format', 'onnx', '--out', plain, '--workspace', ws1));
      const r = run(
        'export',
        '--model',
        model,
        '--format',
        'onnx',
        '--with-extractor',
        '--out',
        fused,
        '--workspace',
        ws1,
      );
      expectOk(r);
      expect(r.stdout).toMatch(/input images \[.*, 3, 32, 32\] → score, log_prob/);
      const info = run('info', fused, '--json');
      expectOk(info);
      const meta = JSON.parse(info.stdout);
      expect(meta['cfstudio.extractor.name']).toBe('moco');
      expect(meta['cfstudio.extractor.sha256']).toBe(
        'acad261cf09a4b302ce6bcbad39e3ea8bd78d997402b51c005970eeee85972ba',
      );
      expect(meta['cfstudio.extractor.fused']).toBe('yes');
      const spec = parseInputSpec(JSON.parse(meta['cfstudio.image_input_spec']), 'metadata');

      // decode the test images as the extractor expects them (the metadata's spec)
      const pixels = pixelsToTensor(await Promise.all(testFiles.map((f) => decodeImage(f, spec))), spec);
      const n = testFiles.length;
      const expected = testFiles.map((f) => engine.get(f)!);
      const ex = await OnnxExtractor.load(moco, spec);
      const features = await ex.run(pixels, n);
      await ex.release();

      const p = await OnnxScorer.load(plain);
      const viaFeatures = await p.score({ rows: n, cols: 128, data: features });
      await p.release();
      expect(maxAbsDiff(viaFeatures.score, expected)).toBeLessThan(1e-3);

      const f = await OnnxScorer.load(fused);
      const viaImages = await f.scoreImages(pixels, [n, 3, 32, 32]);
      const one = await f.scoreImages(pixels.subarray(0, 3 * 32 * 32), [1, 3, 32, 32]);
      await f.release();
      expect(maxAbsDiff(viaImages.score, expected)).toBeLessThan(1e-3);
      expect(Math.abs(one.score[0] - expected[0])).toBeLessThan(1e-3);
      // sizes: the fused model carries the extractor's weights
      expect(fs.statSync(fused).size).toBeGreaterThan(fs.statSync(moco).size);
    }, 300_000);

    it.each(['flow', 'ratio'])(
      '%s on MoCo features: ONNX Runtime on the exported model = cfstudio score',
      async (method) => {
        const m = path.join(dir, `deer-${method}.cfdet`);
        const onnx = path.join(dir, `deer-${method}.onnx`);
        const csv = path.join(dir, `deer-${method}.csv`);
        const args = ['--inliers', path.join(cifar, 'train', 'deer'), '--contrast', contrastDir];
        expectOk(run('train', ...args, '--method', method, ...small, '--out', m, '--workspace', ws1));
        expectOk(run('score', '--model', m, '--input', testDir, '--out', csv, '--workspace', ws1, '-q'));
        expectOk(run('export', '--model', m, '--out', onnx, '--workspace', ws1));
        const s = readScoreCsv(csv);
        const byPath = new Map(s.path.map((p, i) => [p, Number(s.score[i])]));
        const spec = parseInputSpec(
          (await resolveExtractorSpec(moco)).spec,
          'the catalog spec of the shared MoCo model',
        );
        const pixels = pixelsToTensor(await Promise.all(testFiles.map((f) => decodeImage(f, spec))), spec);
        const ex = await OnnxExtractor.load(moco, spec);
        const features = await ex.run(pixels, testFiles.length);
        await ex.release();
        const scorer = await OnnxScorer.load(onnx);
        const got = await scorer.score({ rows: testFiles.length, cols: 128, data: features });
        await scorer.release();
        expect(
          maxAbsDiff(
            got.score,
            testFiles.map((f) => byPath.get(f)!),
          ),
        ).toBeLessThan(1e-3);
      },
      300_000,
    );

    it('import into a fresh workspace → same model bytes, identical scores', () => {
      const first = run('import', model, '--workspace', ws2, '--json');
      expectOk(first);
      expect(JSON.parse(first.stdout).extractor).toBeNull();
      expect(JSON.parse(first.stdout).notes.join('\n')).toMatch(/extractor "moco".*does not have/);
      expectOk(run('extractor', 'add', moco, '--name', 'moco', '--workspace', ws2, '-q'));
      const second = run('import', model, '--workspace', ws2, '--json');
      expectOk(second);
      const { runId, extractor } = JSON.parse(second.stdout);
      expect(extractor).toBe('moco');
      const show = run('runs', 'show', String(runId), '--json', '--workspace', ws2);
      expectOk(show);
      const back = path.join(dir, 'deer-back.cfdet');
      expectOk(run('export', '--run', String(runId), '--format', 'cfdet', '--out', back, '--workspace', ws2));
      expect(fs.readFileSync(back).equals(fs.readFileSync(model))).toBe(true);
      const csv = path.join(dir, 'deer-scores-2.csv');
      expectOk(run('score', '--model', back, '--input', testDir, '--out', csv, '--workspace', ws2, '-q'));
      const s = readScoreCsv(csv);
      for (let i = 0; i < s.path.length; i++) expect(Number(s.score[i])).toBe(engine.get(s.path[i]));
      // an ONNX export straight from the imported run works too
      expectOk(
        run('export', '--run', String(runId), '--out', path.join(dir, 'run.onnx'), '--workspace', ws2),
      );
    }, 300_000);

    it('--with-extractor with the wrong extractor file: exit 2, names the sha256 mismatch', () => {
      const other = path.join(dir, 'other.onnx');
      fs.copyFileSync(moco, other);
      fs.appendFileSync(other, Buffer.from([0]));
      expectUserError(
        run(
          'export',
          '--model',
          model,
          '--with-extractor',
          '--extractor',
          other,
          '--out',
          path.join(dir, 'o.onnx'),
        ),
        'is not the extractor',
      );
    }, 120_000);
  },
);
