/**
 * Extraction bench, one run on one machine: the image pipeline end to end (decode + resize +
 * extract + store, through the same worker job the CLI uses) against the raw model throughput
 * on tensors decoded beforehand, on the same images, in the same process; then the cache-hit
 * re-extraction and the peak memory.
 *
 *   npm run bench:extract      (= node bin/run-ts.mjs bench/extract-speed.ts)
 *
 * Images: BENCH_IMAGES (default 2,000) from the shared CIFAR-10 test split (all classes, in
 * order); model: the shared MoCo ONNX. Batch BENCH_BATCH (default 64, the pipeline's default).
 * Results also go to bench/results/extract-speed.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage } from '../src/main/engine/data/images';
import { OnnxExtractor } from '../src/main/engine/features/onnxExtractor';
import { pixelsToTensor } from '../src/main/engine/features/pixelsToTensor';
import { resolveExtractorSpec } from '../src/main/engine/features/resolveSpec';
import { runExtractJob } from '../src/main/engine/jobs/runExtractJob';
import { Workspace } from '../src/main/engine/store';
import { addImageDataset } from '../src/main/engine/studio/datasets';
import { registerExtractor } from '../src/main/engine/studio/extractors';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.CFSTUDIO_SHARED ?? path.resolve(repo, '../shared');
const model = path.join(shared, 'models', 'moco_r18_cifar10.onnx');
const N = Number(process.env.BENCH_IMAGES ?? 2000);
const BATCH = Number(process.env.BENCH_BATCH ?? 64);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-bench-extract-'));
  try {
    // the images: N files copied into a class-per-folder tree (so the dataset holds exactly N)
    const src = path.join(shared, 'data', 'cifar10', 'test');
    const classes = fs.readdirSync(src).sort();
    const per = Math.ceil(N / classes.length);
    const files: string[] = [];
    for (const c of classes) {
      fs.mkdirSync(path.join(tmp, 'images', c), { recursive: true });
      for (const f of fs.readdirSync(path.join(src, c)).sort().slice(0, per)) {
        if (files.length >= N) break;
        const dst = path.join(tmp, 'images', c, f);
        fs.copyFileSync(path.join(src, c, f), dst);
        files.push(dst);
      }
    }
    const { spec } = await resolveExtractorSpec(model);

    // 1. raw model throughput on pre-decoded tensors
    const pixels = await Promise.all(files.map((f) => decodeImage(f, spec)));
    const ex = await OnnxExtractor.load(model, spec);
    await ex.run(pixelsToTensor(pixels.slice(0, BATCH), spec), Math.min(BATCH, pixels.length)); // warm-up
    const tensors: { x: Float32Array; n: number }[] = [];
    for (let i = 0; i < pixels.length; i += BATCH) {
      const part = pixels.slice(i, i + BATCH);
      tensors.push({ x: pixelsToTensor(part, spec), n: part.length });
    }
    const r0 = performance.now();
    for (const t of tensors) await ex.run(t.x, t.n);
    const rawSeconds = (performance.now() - r0) / 1000;
    await ex.release();
    const rawRate = files.length / rawSeconds;

    // 2. the pipeline, as the CLI runs it (worker thread, store writes)
    const wsFile = path.join(tmp, 'ws.cfstudio');
    const ws = Workspace.open(wsFile);
    const reg = await registerExtractor(ws, model, { name: 'moco' });
    const s0 = performance.now();
    const added = await addImageDataset(ws, path.join(tmp, 'images'), { name: 'bench' });
    const scanSeconds = (performance.now() - s0) / 1000;
    const job = {
      workspaceFile: wsFile,
      datasetId: added.dataset.id,
      extractorId: reg.extractor.id,
      modelFile: model,
      spec,
      batchSize: BATCH,
    };
    const first = await runExtractJob(job);
    const second = await runExtractJob(job);
    ws.close();

    const res = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model },
      images: files.length,
      batch: BATCH,
      provider: first.provider,
      rawModel: { seconds: +rawSeconds.toFixed(2), imagesPerSec: +rawRate.toFixed(1) },
      pipeline: {
        seconds: +first.seconds.toFixed(2),
        imagesPerSec: +first.imagesPerSec.toFixed(1),
        decodeSeconds: +first.decodeSeconds.toFixed(2),
        modelSeconds: +first.modelSeconds.toFixed(2),
        ratioToRaw: +(first.imagesPerSec / rawRate).toFixed(3),
      },
      scan: { seconds: +scanSeconds.toFixed(2), filesPerSec: +(files.length / scanSeconds).toFixed(0) },
      cacheHit: {
        seconds: +second.seconds.toFixed(3),
        cached: second.cached,
        speedUp: +(first.seconds / Math.max(second.seconds, 1e-6)).toFixed(0),
      },
      peakRssMiB: Math.round(peakRss / 2 ** 20),
    };
    console.log(JSON.stringify(res, null, 2));
    console.log(
      `\npipeline ${res.pipeline.imagesPerSec} img/s vs raw model ${res.rawModel.imagesPerSec} img/s on the same ${files.length} images → ${(res.pipeline.ratioToRaw * 100).toFixed(0)} % · cache hit ${res.cacheHit.speedUp}× faster · peak RSS ${res.peakRssMiB} MiB`,
    );
    fs.mkdirSync(path.join(repo, 'bench', 'results'), { recursive: true });
    fs.writeFileSync(
      path.join(repo, 'bench', 'results', 'extract-speed.json'),
      JSON.stringify(res, null, 2) + '\n',
    );
  } finally {
    clearInterval(sampler);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
