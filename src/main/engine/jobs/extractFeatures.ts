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
 */
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { decodeImage } from '../data/images';
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
  /** parallel decodes; default: the number of CPU cores */
  decodeConcurrency?: number;
  signal?: AbortSignal;
  onProgress?: (p: ExtractProgress, force?: boolean) => void;
}

interface Job {
  hash: string;
  file: string;
  itemIds: number[];
  relPath: string;
}

export async function extractFeatures(ws: Workspace, o: ExtractOptions): Promise<ExtractResult> {
  const t0 = performance.now();
  const ds = ws.datasets.get(o.datasetId);
  if (!ds) throw new Error(`dataset ${o.datasetId} not found`);
  const items = ws.items.list(o.datasetId, { status: 'ok', labels: o.labels ?? undefined });
  const byHash = new Map<string, Job>();
  for (const it of items) {
    if (!it.contentHash) continue;
    const j = byHash.get(it.contentHash);
    if (j) j.itemIds.push(it.id);
    else
      byHash.set(it.contentHash, {
        hash: it.contentHash,
        file: path.join(ds.root, it.relPath),
        itemIds: [it.id],
        relPath: it.relPath,
      });
  }
  const total = byHash.size;
  const missing = new Set(ws.features.missing(o.extractorId, [...byHash.keys()]));
  const pending = [...byHash.values()].filter((j) => missing.has(j.hash));
  const cached = total - pending.length;
  const failed: ExtractResult['failed'] = [];
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
  const target = { width: o.spec.width, height: o.spec.height, resize: o.spec.resize };

  const decodeBatch = async (batch: Job[]) => {
    const d0 = performance.now();
    const decoded = await Promise.all(
      batch.map((j) =>
        limit(async () => {
          if (o.signal?.aborted) return null;
          try {
            return { job: j, pixels: await decodeImage(j.file, target) };
          } catch (e) {
            return { job: j, error: (e as Error).message };
          }
        }),
      ),
    );
    decodeSeconds += (performance.now() - d0) / 1000;
    return decoded;
  };

  try {
    const batches: Job[][] = [];
    for (let i = 0; i < pending.length; i += batchSize) batches.push(pending.slice(i, i + batchSize));
    let next = decodeBatch(batches[0]);
    for (let b = 0; b < batches.length; b++) {
      const decoded = await next;
      if (o.signal?.aborted) throw new CancelledError('feature extraction');
      // overlap: decode the next batch while the model runs on this one
      if (b + 1 < batches.length) next = decodeBatch(batches[b + 1]);
      const good: { job: Job; pixels: Uint8Array }[] = [];
      for (const d of decoded) {
        if (!d) continue;
        if ('error' in d && d.error !== undefined) {
          failed.push({ relPath: d.job.relPath, reason: d.error });
          ws.transaction(() => d.job.itemIds.forEach((id) => ws.items.markUnreadable(id, d.error!)));
        } else if ('pixels' in d) good.push(d);
      }
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
          good.map((g, i) => ({ contentHash: g.job.hash, vector: feats.slice(i * dim, (i + 1) * dim) })),
        );
      }
      done += good.length;
      report(b === batches.length - 1);
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
      seconds,
      imagesPerSec: seconds > 0 ? extracted / seconds : 0,
      provider: ex?.provider ?? null,
      providerAttempts: ex?.providerAttempts ?? [],
      decodeSeconds,
      modelSeconds,
    };
  }
}
