/**
 * Feature extraction for one workspace dataset: every readable item whose content hash has no
 * features yet for this extractor is decoded and resized (sharp, several images in parallel),
 * batched through the extractor (ONNX Runtime) and written in one transaction per batch.
 *
 * Features are cached by (content hash, extractor): a second extraction of the same images,
 * in this dataset or any other, costs only the lookup; a crash or cancel loses at most the
 * batch in flight, and a rerun resumes where it stopped. Decoding of batch k+1 overlaps the
 * model run of batch k. Stored vectors are the raw model output; consumers apply the spec's
 * L2 normalization (so an exported detector can take raw features too).
 *
 * The cache key is the sha256 of the bytes actually decoded (read once, hashed, decoded), never
 * the hash recorded at the scan: a file changed since its scan is recorded again under its new
 * hash and its features are stored under that, so no other image can be served them.
 */
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { decodeImageFile } from '../data/images';
import type { Workspace } from '../store';
import { CancelledError } from '../util/errors';
import type { ExtractorInputSpec } from '../features/inputSpec';
import { OnnxExtractor } from '../features/onnxExtractor';
import { pixelsToTensor } from '../features/pixelsToTensor';

export interface ExtractProgress {
  phase: 'extract';
  dataset: string;
  /** unique images (by content hash) that have features now, cached ones included */
  done: number;
  total: number;
  /** found in the cache when the job started */
  cached: number;
  /** items that failed to decode during this job (marked unreadable) */
  failed: number;
  imagesPerSec: number;
  etaSeconds: number | null;
  provider: string | null;
}

export interface ExtractResult {
  dataset: string;
  total: number;
  cached: number;
  extracted: number;
  failed: { relPath: string; reason: string }[];
  /** files whose bytes differ from their scan: recorded again under the hash of what was decoded */
  changed: { relPath: string }[];
  seconds: number;
  imagesPerSec: number;
  provider: string | null;
  providerAttempts: { provider: string; ok: boolean; reason?: string }[];
  /** time spent decoding vs in the model (they overlap, so they may sum to more than `seconds`) */
  decodeSeconds: number;
  modelSeconds: number;
}

export interface ExtractOptions {
  datasetId: number;
  /** only the items with these labels (subfolders); default: the whole dataset */
  labels?: string[] | null;
  extractorId: number;
  modelFile: string;
  spec: ExtractorInputSpec;
  batchSize?: number;
  /** parallel decodes; default: the number of CPU cores (large images also wait for decode memory) */
  decodeConcurrency?: number;
  /** largest accepted width × height (as in the scan); default DEFAULT_PIXEL_LIMIT */
  pixelLimit?: number;
  signal?: AbortSignal;
  onProgress?: (p: ExtractProgress, force?: boolean) => void;
}

/** One content hash to provide features for. */
interface Job {
  /** the hash recorded at the scan */
  hash: string;
  /** the items recorded with it; the first one's file is read (the others are read if it changed) */
  items: { id: number; file: string; relPath: string }[];
}

type Decoded =
  | { job: Job; pixels: Uint8Array; sha256: string; bytes: number; mtimeMs: number }
  | { job: Job; error: string };

export async function extractFeatures(ws: Workspace, o: ExtractOptions): Promise<ExtractResult> {
  const t0 = performance.now();
  const ds = ws.datasets.get(o.datasetId);
  if (!ds) throw new Error(`dataset ${o.datasetId} not found`);
  const items = ws.items.list(o.datasetId, { status: 'ok', labels: o.labels ?? undefined });
  const byHash = new Map<string, Job>();
  for (const it of items) {
    if (!it.contentHash) continue;
    const item = { id: it.id, file: path.join(ds.root, it.relPath), relPath: it.relPath };
    const j = byHash.get(it.contentHash);
    if (j) j.items.push(item);
    else byHash.set(it.contentHash, { hash: it.contentHash, items: [item] });
  }
  let total = byHash.size;
  const missing = new Set(ws.features.missing(o.extractorId, [...byHash.keys()]));
  const pending = [...byHash.values()].filter((j) => missing.has(j.hash));
  const cached = total - pending.length;
  const failed: ExtractResult['failed'] = [];
  const changed: ExtractResult['changed'] = [];
  let done = cached;
  let decodeSeconds = 0;
  let modelSeconds = 0;
  const base: Omit<ExtractProgress, 'done' | 'failed' | 'imagesPerSec' | 'etaSeconds'> = {
    phase: 'extract',
    dataset: ds.name,
    total,
    cached,
    provider: null,
  };
  const report = (force = false) => {
    const secs = (performance.now() - t0) / 1000;
    const rate = secs > 0 ? (done - cached) / secs : 0;
    o.onProgress?.(
      {
        ...base,
        done,
        failed: failed.length,
        imagesPerSec: rate,
        etaSeconds: rate > 0 ? (total - done - failed.length) / rate : null,
      },
      force,
    );
  };
  report(true);
  if (pending.length === 0) {
    return result();
  }

  const extractor = await OnnxExtractor.load(o.modelFile, o.spec);
  base.provider = extractor.provider;
  const limit = pLimit(o.decodeConcurrency ?? Math.max(1, os.availableParallelism()));
  const batchSize = o.batchSize ?? 64;
  const target = {
    width: o.spec.width,
    height: o.spec.height,
    resize: o.spec.resize,
    cropFraction: o.spec.cropFraction,
  };

  const decodeBatch = async (batch: Job[]): Promise<(Decoded | null)[]> => {
    const d0 = performance.now();
    const decoded = await Promise.all(
      batch.map((job) =>
        limit(async (): Promise<Decoded | null> => {
          if (o.signal?.aborted) return null;
          try {
            const file = job.items[0].file;
            return {
              job,
              ...(await decodeImageFile(file, target, { within: ds.root, pixelLimit: o.pixelLimit })),
            };
          } catch (e) {
            return { job, error: (e as Error).message };
          }
        }),
      ),
    );
    decodeSeconds += (performance.now() - d0) / 1000;
    return decoded;
  };

  try {
    // a queue, not fixed batches: the other items of a changed file's hash come back to it
    const queue = pending.slice();
    let next = decodeBatch(queue.splice(0, batchSize));
    for (;;) {
      const decoded = await next;
      if (o.signal?.aborted) throw new CancelledError('feature extraction');
      if (decoded.length === 0) break;
      const good: { hash: string; pixels: Uint8Array }[] = [];
      for (const d of decoded) {
        if (!d) continue;
        const [read, ...others] = d.job.items;
        if ('error' in d) {
          // only this file is known to be bad (it may have changed since the scan); its twins are tried
          failed.push({ relPath: read.relPath, reason: d.error });
          ws.items.markUnreadable(read.id, d.error);
          if (others.length > 0) queue.push({ hash: d.job.hash, items: others });
          continue;
        }
        if (d.sha256 !== d.job.hash) {
          // changed since the scan: these pixels belong to the new bytes, never to the old hash
          ws.items.recordContent(read.id, { contentHash: d.sha256, bytes: d.bytes, mtimeMs: d.mtimeMs });
          changed.push({ relPath: read.relPath });
          if (others.length > 0) {
            queue.push({ hash: d.job.hash, items: others });
            total++; // the new bytes are one more image; the old hash still needs its own
          }
        }
        good.push({ hash: d.sha256, pixels: d.pixels });
      }
      // overlap: decode the next batch while the model runs on this one
      const nextBatch = queue.splice(0, batchSize);
      next = decodeBatch(nextBatch);
      if (good.length > 0) {
        const m0 = performance.now();
        const feats = await extractor.run(
          pixelsToTensor(
            good.map((g) => g.pixels),
            o.spec,
          ),
          good.length,
        );
        modelSeconds += (performance.now() - m0) / 1000;
        const dim = extractor.dim;
        ws.features.putMany(
          o.extractorId,
          good.map((g, i) => ({ contentHash: g.hash, vector: feats.slice(i * dim, (i + 1) * dim) })),
        );
      }
      done += good.length;
      report(nextBatch.length === 0);
    }
  } finally {
    await extractor.release();
  }
  return result(extractor);

  function result(ex?: OnnxExtractor): ExtractResult {
    const seconds = (performance.now() - t0) / 1000;
    const extracted = done - cached;
    return {
      dataset: ds!.name,
      total,
      cached,
      extracted,
      failed,
      changed,
      seconds,
      imagesPerSec: seconds > 0 ? extracted / seconds : 0,
      provider: ex?.provider ?? null,
      providerAttempts: ex?.providerAttempts ?? [],
      decodeSeconds,
      modelSeconds,
    };
  }
}
