/**
 * Detectors leaving the workspace: a run's detector as a .cfdet bundle (its stored bytes, so it
 * re-imports identically) or a standalone ONNX scorer carrying the run's threshold, optionally
 * with the image extractor fused in front; a run's ranked list as CSV; and the same for a
 * detector file. Every output is written atomically.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Detector } from '../detector/types';
import { exportDetectorOnnx, type ExportOnnxResult } from '../export';
import { encodeDetector } from '../model/cfdet';
import type { Workspace } from '../store';
import { toCsv } from '../util/csv';
import { UserError, userError } from '../util/errors';
import { appVersion } from '../util/version';
import { writeFileAtomic } from '../util/writeFileAtomic';
import { getRun, runDetector } from './detectorOfRun';
import { extractorForDetector } from './extractors';
import { readDetectorFile } from './importDetector';
import { rankedRun } from './rankedRun';
import { detectorWithDecision, runThresholdOrNull } from './threshold';

export type ExportFormat = 'cfdet' | 'onnx' | 'csv';

export interface ExportOptions {
  /** onnx: fuse the image extractor in front (the model then takes the image tensor) */
  withExtractor?: boolean;
  /** with `withExtractor`: the extractor's .onnx file or workspace name (default: by sha256) */
  extractor?: string;
}

export interface ExportOutcome {
  path: string;
  format: ExportFormat;
  bytes: number;
  /** what was exported, for messages ('run 3', 'deer.cfdet') */
  source: string;
  method: string;
  /** onnx: the graph's input, opset and metadata */
  onnx: Pick<ExportOnnxResult, 'opset' | 'input' | 'metadata'> | null;
}

/** The ranked list of a run as CSV: rank, score, flagged, group, path, label (most anomalous first). */
export function runCsv(ws: Workspace, runId: number): string {
  const view = rankedRun(ws, runId);
  const threshold = runThresholdOrNull(ws, runId)?.threshold ?? null;
  const roots = new Map(ws.datasets.list().map((d) => [d.id, d.root]));
  return toCsv(
    ['rank', 'score', 'flagged', 'group', 'path', 'label'],
    view.items.map((it) => [
      it.rank,
      it.score,
      threshold !== null && it.score >= threshold,
      it.group,
      path.join(roots.get(it.datasetId) ?? '', it.relPath),
      it.label,
    ]),
  );
}

/** The extractor model to fuse: `ref` (a file, or a workspace name), else the workspace's by sha256. */
function extractorModel(ws: Workspace | null, det: Detector, ref: string | undefined, source: string) {
  let file: string;
  if (ref && (fs.existsSync(ref) || /\.onnx$/i.test(ref))) file = ref;
  else if (ref) {
    const row = ws?.extractors.byName(ref);
    if (!row)
      throw userError('extractor-unknown', `no extractor named "${ref}" in this workspace`, {
        ref,
        known: ws?.extractors.list().map((e) => e.name) ?? [],
      });
    file = row.path;
  } else {
    if (!ws) throw new Error('exporting with an extractor found by sha256 needs a workspace');
    file = extractorForDetector(ws, det, source).path;
  }
  try {
    return { bytes: fs.readFileSync(file), file };
  } catch (e) {
    throw new UserError(`cannot read the extractor model ${file}: ${(e as Error).message}`, 'check the path');
  }
}

function writeDetector(
  ws: Workspace | null,
  det: Detector,
  cfdetBytes: Buffer,
  source: string,
  format: 'cfdet' | 'onnx',
  out: string,
  o: ExportOptions,
): ExportOutcome {
  if (o.withExtractor && format !== 'onnx')
    throw new UserError(
      'fusing the extractor applies only to the ONNX format',
      'export as ONNX, or without the extractor',
    );
  if (format === 'cfdet') {
    writeFileAtomic(out, cfdetBytes);
    return { path: out, format, bytes: cfdetBytes.length, source, method: det.method, onnx: null };
  }
  const extractor = o.withExtractor ? extractorModel(ws, det, o.extractor, source) : undefined;
  const r = exportDetectorOnnx(det, { appVersion: appVersion(), source, extractor });
  writeFileAtomic(out, r.bytes);
  return {
    path: out,
    format,
    bytes: r.bytes.length,
    source,
    method: det.method,
    onnx: { opset: r.opset, input: r.input, metadata: r.metadata },
  };
}

/** Writes run `runId`'s detector (cfdet/onnx, with its threshold) or ranked list (csv) to `out`. */
export function exportRun(
  ws: Workspace,
  runId: number,
  format: ExportFormat,
  out: string,
  o: ExportOptions = {},
): ExportOutcome {
  const run = getRun(ws, runId);
  const source = `run ${runId}`;
  if (format === 'csv') {
    const text = runCsv(ws, runId);
    writeFileAtomic(out, text);
    return { path: out, format, bytes: Buffer.byteLength(text), source, method: run.method, onnx: null };
  }
  const { detector } = runDetector(ws, runId);
  // the run's decision travels with its detector: threshold and held-out scores, in both formats
  const decided = detectorWithDecision(ws, runId, detector);
  return writeDetector(ws, decided, encodeDetector(decided), source, format, out, o);
}

/** Writes a detector file as .cfdet (a copy) or ONNX; `ws` finds its extractor when fused. */
export function exportDetectorFile(
  ws: Workspace | null,
  file: string,
  format: 'cfdet' | 'onnx',
  out: string,
  o: ExportOptions = {},
): ExportOutcome {
  const { detector, bytes } = readDetectorFile(file);
  return writeDetector(ws, detector, bytes, file, format, out, o);
}
