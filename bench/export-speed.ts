/**
 * Export bench, one run on one machine: scoring throughput of the exported ONNX model in
 * onnxruntime-node against the engine's own scoring (scoreDetector on TensorFlow.js), in the same
 * process, on the same batch; plus the file sizes (.cfdet, .onnx, .onnx with the extractor fused).
 *
 *   npm run bench:export      (= node bin/run-ts.mjs bench/export-speed.ts)
 *
 * Detector: CF with L2 preprocessing, D = 128, H = 512, 8 blocks, random parameters (subnet last
 * layers ×0.1 so every block does something). Batch BENCH_BATCH (default 4,096), BENCH_REPS
 * timed repetitions (default 5) after one warm-up each. Results also go to bench/results/export-speed.json.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initTfjs } from '../src/main/engine/backend/tfjsBackend';
import { defaultDetectorConfig } from '../src/main/engine/detector/fitDetector';
import { scoreDetector } from '../src/main/engine/detector/scoreDetector';
import { DETECTOR_FORMAT_VERSION, type Detector } from '../src/main/engine/detector/types';
import { exportDetectorOnnx, OnnxScorer } from '../src/main/engine/export';
import { parseInputSpec } from '../src/main/engine/features/inputSpec';
import { initFlowParams } from '../src/main/engine/flow/params';
import { makeFlowSpec } from '../src/main/engine/flow/spec';
import { encodeDetector } from '../src/main/engine/model/cfdet';
import { Rng } from '../src/main/engine/util/rng';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.CFSTUDIO_SHARED ?? path.resolve(repo, '../shared');
const moco = path.join(shared, 'models', 'moco_r18_cifar10.onnx');
const BATCH = Number(process.env.BENCH_BATCH ?? 4096);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const D = 128;

function detector(): Detector {
  const spec = makeFlowSpec(D, { blocks: 8, hidden: 512, lastLayerInit: 'scaled' }, 1);
  const config = defaultDetectorConfig('cf', 'l2');
  return {
    format: 'cfstudio-detector',
    formatVersion: DETECTOR_FORMAT_VERSION,
    method: 'cf',
    preprocessing: { kind: 'l2', inputDim: D, columns: Array.from({ length: D }, (_, i) => `f${i}`) },
    flows: [{ role: 'inlier', spec, params: initFlowParams(spec, 1) }],
    baseline: null,
    eps: { mode: 'fixed', value: 0 },
    meta: {
      createdAt: new Date().toISOString(),
      appVersion: 'bench',
      seed: 1,
      config,
      backend: null,
      contrastKind: 'none',
      dataHashes: { inliers: 'random', contrast: null },
      inlierRows: 0,
      contrastRows: null,
      phases: [],
      seconds: 0,
      notes: ['random parameters (bench)'],
    },
  };
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < REPS; i++) await fn();
  return (performance.now() - t0) / 1000 / REPS;
}

async function main() {
  const tf = await initTfjs();
  const det = detector();
  const rng = new Rng(3);
  const x = { rows: BATCH, cols: D, data: Float32Array.from({ length: BATCH * D }, () => rng.normal()) };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-bench-export-'));
  try {
    const plainFile = path.join(tmp, 'bench.onnx');
    const t0 = performance.now();
    const plain = exportDetectorOnnx(det, { appVersion: 'bench' });
    const exportSeconds = (performance.now() - t0) / 1000;
    fs.writeFileSync(plainFile, plain.bytes);
    const cfdetBytes = encodeDetector(det).length;

    const scorer = await OnnxScorer.load(plainFile);
    const engineSec = await timeIt(() => scoreDetector(det, x));
    const ortSec = await timeIt(() => scorer.score(x));
    const [e, o] = [await scoreDetector(det, x), await scorer.score(x)];
    await scorer.release();
    let maxAbs = 0;
    let maxRel = 0;
    for (let i = 0; i < BATCH; i++) {
      const d = Math.abs(e.score[i] - o.score[i]);
      maxAbs = Math.max(maxAbs, d);
      maxRel = Math.max(maxRel, d / Math.max(1, Math.abs(e.score[i])));
    }

    let fusedBytes: number | null = null;
    if (fs.existsSync(moco)) {
      const bytes = fs.readFileSync(moco);
      det.meta.extractor = {
        name: 'moco',
        sha256: createHash('sha256').update(bytes).digest('hex'),
        spec: parseInputSpec(
          { inputName: 'images', outputName: 'embedding', width: 32, height: 32 },
          'bench',
        ),
      };
      fusedBytes = exportDetectorOnnx(det, { appVersion: 'bench', extractor: { bytes, file: moco } }).bytes
        .length;
    }

    const result = {
      machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${process.platform}-${process.arch}, Node ${process.version}`,
      engineBackend: tf.backend,
      detector: 'cf, l2, D=128, H=512, 8 blocks, random params',
      batch: BATCH,
      reps: REPS,
      engineSamplesPerSec: Math.round(BATCH / engineSec),
      onnxRuntimeSamplesPerSec: Math.round(BATCH / ortSec),
      speedup: +(engineSec / ortSec).toFixed(2),
      maxAbsScoreDiff: maxAbs,
      maxRelScoreDiff: maxRel,
      exportSeconds: +exportSeconds.toFixed(3),
      bytes: {
        cfdet: cfdetBytes,
        onnx: plain.bytes.length,
        onnxWithExtractor: fusedBytes,
        extractor: fs.existsSync(moco) ? fs.statSync(moco).size : null,
      },
    };
    console.log(JSON.stringify(result, null, 2));
    fs.mkdirSync(path.join(repo, 'bench', 'results'), { recursive: true });
    fs.writeFileSync(
      path.join(repo, 'bench', 'results', 'export-speed.json'),
      JSON.stringify(result, null, 2) + '\n',
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
