/**
 * A detector file back into a workspace, as a finished run whose model bytes are the file's
 * own (so exporting the run again gives the same file, and the same scores). The file is fully
 * checked first (signature, format version, checksum, shapes: see model/cfdet.ts); its extractor
 * is matched by sha256 among the workspace's extractors.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DetectorConfigSchema } from '../detector/config';
import type { Detector } from '../detector/types';
import { decodeDetector } from '../model/cfdet';
import type { ExtractorRow, Workspace } from '../store';
import { UserError } from '../util/errors';

export interface ImportResult {
  runId: number;
  detector: Detector;
  /** the workspace extractor with the detector's sha256 (image detectors), or null */
  extractor: ExtractorRow | null;
  /** an image detector whose extractor this workspace lacks (images cannot be scored yet) */
  missingExtractor: { name: string; sha256: string } | null;
  notes: string[];
}

/** Reads a .cfdet file with clear errors for missing, foreign, damaged and newer files. */
export function readDetectorFile(file: string): { detector: Detector; bytes: Buffer } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `detector file ${file} not found` : `cannot read ${file}: ${(e as Error).message}`,
      'check the path',
    );
  }
  if (/\.onnx$/i.test(file))
    throw new UserError(
      `${file} is an ONNX model; import reads CF Studio detector files (.cfdet)`,
      'import the .cfdet file the ONNX model was exported from',
    );
  return { detector: decodeDetector(bytes, file), bytes };
}

export function importDetector(ws: Workspace, file: string, opts: { name?: string } = {}): ImportResult {
  const { detector: det, bytes } = readDetectorFile(file);
  const notes: string[] = [];
  let extractor: ExtractorRow | null = null;
  let missingExtractor: ImportResult['missingExtractor'] = null;
  if (det.meta.extractor) {
    extractor = ws.extractors.byHash(det.meta.extractor.sha256) ?? null;
    if (!extractor) {
      missingExtractor = { name: det.meta.extractor.name, sha256: det.meta.extractor.sha256 };
      notes.push(
        `the detector was trained on features of extractor "${det.meta.extractor.name}" (sha256 ${det.meta.extractor.sha256.slice(0, 12)}…), which this workspace does not have: images can be scored once it is added`,
      );
    }
  }
  // the stored bytes are the file's own bytes: exporting the run again gives the same file
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const config = DetectorConfigSchema.safeParse(det.meta.config);
  const runId = ws.transaction(() => {
    const id = ws.runs.create({
      kind: 'import',
      name: opts.name ?? `imported ${path.basename(file)}`,
      method: det.method,
      config: { detector: config.success ? config.data : null },
      extractorId: extractor?.id ?? null,
      // an imported detector's training data is not in this workspace
      selections: {},
      parentRunId: null,
    });
    ws.runs.start(id, det.meta.backend?.backend ?? null);
    ws.models.put(id, { format: 'cfdet', bytes, sha256 });
    ws.runs.finish(id, {
      status: 'done',
      metrics: {
        file: path.resolve(file),
        sha256,
        eps: det.eps,
        dataHashes: det.meta.dataHashes,
        trainedAt: det.meta.createdAt,
        notes: [...det.meta.notes, ...notes],
      },
    });
    return id;
  });
  return { runId, detector: det, extractor, missingExtractor, notes };
}
