/**
 * Detectors leaving and entering the app:
 *   cfstudio export --model deer.cfdet --format onnx --out deer.onnx                  features → score
 *   cfstudio export --model deer.cfdet --format onnx --with-extractor --out deer-images.onnx
 *   cfstudio export --run 3 --format cfdet --out deer.cfdet        a workspace run's model file
 *   cfstudio import deer.cfdet                                      back into a workspace (a run)
 *   cfstudio info deer.onnx                                         the metadata (tableCommands.ts)
 */
import fs from 'node:fs';
import { METHOD_LABELS } from '../engine/detector/methods';
import type { Detector } from '../engine/detector/types';
import { exportDetectorOnnx } from '../engine/export';
import { detectorOfRun, importDetector, readDetectorFile } from '../engine/studio/importDetector';
import type { Workspace } from '../engine/store';
import { UserError } from '../engine/util/errors';
import { appVersion } from '../engine/util/version';
import { logger, openWorkspace, type WorkspaceOpts } from './workspace';
import { writeFileAtomic } from '../engine/util/writeFileAtomic';

const out = (s: string): void => {
  process.stdout.write(s + '\n');
};

export interface ExportOpts extends WorkspaceOpts {
  model?: string;
  run?: number;
  format: string;
  withExtractor?: boolean;
  extractor?: string;
  out: string;
  json?: boolean;
}

/** The extractor file for --with-extractor: --extractor FILE.onnx or NAME, else the workspace's by sha256. */
function extractorBytes(
  det: Detector,
  o: ExportOpts,
  ws: () => Workspace,
  source: string,
): { bytes: Uint8Array; file: string } {
  const meta = det.meta.extractor;
  if (!meta)
    throw new UserError(
      `${source} was trained on table features, not on an image extractor's features`,
      'export it without --with-extractor: the model then takes the feature rows',
    );
  let file: string | undefined;
  if (o.extractor && (fs.existsSync(o.extractor) || /\.onnx$/i.test(o.extractor))) file = o.extractor;
  else if (o.extractor) {
    const row = ws().extractors.byName(o.extractor);
    if (!row)
      throw new UserError(
        `no extractor named "${o.extractor}" in ${ws().file}`,
        'pass the .onnx file (--extractor FILE.onnx) or list extractors: cfstudio extractor list',
      );
    file = row.path;
  } else {
    const row = ws().extractors.byHash(meta.sha256);
    if (!row)
      throw new UserError(
        `--with-extractor needs the model file of extractor "${meta.name}" (sha256 ${meta.sha256.slice(0, 12)}…), which ${ws().file} does not have`,
        `pass it with --extractor FILE.onnx, or register it: cfstudio extractor add FILE.onnx --name ${meta.name}`,
      );
    file = row.path;
  }
  try {
    return { bytes: fs.readFileSync(file), file };
  } catch (e) {
    throw new UserError(
      `cannot read the extractor model ${file}: ${(e as Error).message}`,
      'check the path (a moved model file: cfstudio extractor add FILE.onnx)',
    );
  }
}

export async function cmdExport(o: ExportOpts): Promise<void> {
  if (!o.model === (o.run === undefined))
    throw new UserError(
      'export needs exactly one of --model FILE.cfdet and --run ID',
      'see: cfstudio export --help',
    );
  const format = o.format.toLowerCase();
  if (format !== 'onnx' && format !== 'cfdet')
    throw new UserError(`unknown export format '${o.format}'`, 'use --format onnx or --format cfdet');
  if (o.withExtractor && format !== 'onnx')
    throw new UserError(
      '--with-extractor only applies to --format onnx',
      'drop --with-extractor or use --format onnx',
    );
  let workspace: Workspace | null = null;
  const ws = () => (workspace ??= openWorkspace(o));
  try {
    const source = o.model ?? `run ${o.run}`;
    const { detector: det, bytes: detBytes } =
      o.model !== undefined ? readDetectorFile(o.model) : detectorOfRun(ws(), o.run!);
    if (format === 'cfdet') {
      writeFileAtomic(o.out, detBytes);
      if (o.json) return out(JSON.stringify({ out: o.out, format, bytes: detBytes.length }, null, 2));
      return out(
        `exported ${METHOD_LABELS[det.method]} detector of ${source} → ${o.out} (${detBytes.length} bytes)`,
      );
    }
    const extractor = o.withExtractor ? extractorBytes(det, o, ws, source) : undefined;
    const r = exportDetectorOnnx(det, { appVersion: appVersion(), source, extractor });
    writeFileAtomic(o.out, r.bytes);
    if (o.json)
      return out(
        JSON.stringify(
          { out: o.out, format, bytes: r.bytes.length, opset: r.opset, input: r.input, metadata: r.metadata },
          null,
          2,
        ),
      );
    out(
      `exported ${METHOD_LABELS[det.method]} detector of ${source} → ${o.out} (${(r.bytes.length / 1e6).toFixed(2)} MB, ONNX opset ${r.opset}): ` +
        `input ${r.input.name} [${r.input.dims.join(', ')}] → score, log_prob`,
    );
    logger(o.quiet)(`  metadata: cfstudio info ${o.out}`);
  } finally {
    (workspace as Workspace | null)?.close();
  }
}

export function cmdImport(file: string, o: WorkspaceOpts & { name?: string; json?: boolean }): void {
  // read and check the file before opening (or creating) a workspace
  readDetectorFile(file);
  const ws = openWorkspace(o);
  try {
    const r = importDetector(ws, file, { name: o.name });
    if (o.json)
      return out(
        JSON.stringify(
          { runId: r.runId, method: r.detector.method, extractor: r.extractor?.name ?? null, notes: r.notes },
          null,
          2,
        ),
      );
    out(
      `imported ${METHOD_LABELS[r.detector.method]} detector ${file} as run ${r.runId} in ${ws.file}` +
        (r.extractor ? ` (extractor "${r.extractor.name}" matched by sha256)` : ''),
    );
    for (const n of r.notes) logger(o.quiet)(`note: ${n}`);
  } finally {
    ws.close();
  }
}
