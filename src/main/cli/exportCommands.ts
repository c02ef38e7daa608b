/**
 * Detectors leaving and entering the app:
 *   cfstudio export --model deer.cfdet --format onnx --out deer.onnx                  features → score
 *   cfstudio export --model deer.cfdet --format onnx --with-extractor --out deer-images.onnx
 *   cfstudio export --run 3 --format cfdet|onnx|csv --out FILE       a workspace run's detector or list
 *   cfstudio import deer.cfdet                                      back into a workspace (a run)
 */
import fs from 'node:fs';
import {
  exportDetectorFile,
  exportRun,
  importDetector,
  METHOD_LABELS,
  openWorkspace,
  readDetectorFile,
  type ExportOutcome,
  type Method,
  type Workspace,
} from '../engine/studio';
import { UserError } from '../engine/util/errors';
import { logger, out, withWorkspace, type WorkspaceOpts } from './context';

export interface ExportOpts extends WorkspaceOpts {
  model?: string;
  run?: number;
  format: string;
  withExtractor?: boolean;
  extractor?: string;
  out: string;
  json?: boolean;
}

function report(r: ExportOutcome, o: ExportOpts): void {
  if (o.json) {
    out(JSON.stringify({ out: r.path, format: r.format, bytes: r.bytes, ...(r.onnx ?? {}) }, null, 2));
    return;
  }
  const label = METHOD_LABELS[r.method as Method] ?? r.method;
  if (r.format === 'csv')
    return out(`exported the ranked list of ${r.source} → ${r.path} (${r.bytes} bytes)`);
  if (r.format === 'cfdet')
    return out(`exported ${label} detector of ${r.source} → ${r.path} (${r.bytes} bytes)`);
  out(
    `exported ${label} detector of ${r.source} → ${r.path} (${(r.bytes / 1e6).toFixed(2)} MB, ONNX opset ${r.onnx!.opset}): ` +
      `input ${r.onnx!.input.name} [${r.onnx!.input.dims.join(', ')}] → score, log_prob`,
  );
  logger(o.quiet)(`  metadata: cfstudio info ${r.path}`);
}

export async function cmdExport(o: ExportOpts): Promise<void> {
  if (!o.model === (o.run === undefined))
    throw new UserError(
      'export needs exactly one of --model FILE.cfdet and --run ID',
      'see: cfstudio export --help',
    );
  const format = o.format.toLowerCase();
  if (format !== 'onnx' && format !== 'cfdet' && !(format === 'csv' && o.run !== undefined))
    throw new UserError(
      `unknown export format '${o.format}'`,
      o.run !== undefined ? 'use --format onnx, cfdet or csv' : 'use --format onnx or --format cfdet',
    );
  if (o.withExtractor && format !== 'onnx')
    throw new UserError(
      '--with-extractor only applies to --format onnx',
      'drop --with-extractor or use --format onnx',
    );
  const opts = { withExtractor: o.withExtractor, extractor: o.extractor };
  if (o.run !== undefined) {
    const run = o.run;
    return withWorkspace(o, async (ws) =>
      report(exportRun(ws, run, format as 'onnx' | 'cfdet' | 'csv', o.out, opts), o),
    );
  }
  // a detector file: the workspace is only opened to find its extractor by sha256
  let ws: Workspace | null = null;
  try {
    readDetectorFile(o.model!);
    const extractorFile = o.extractor && (fs.existsSync(o.extractor) || /\.onnx$/i.test(o.extractor));
    if (o.withExtractor && !extractorFile) ws = openWorkspace(o.workspace);
    report(exportDetectorFile(ws, o.model!, format as 'onnx' | 'cfdet', o.out, opts), o);
  } finally {
    ws?.close();
  }
}

export function cmdImport(file: string, o: WorkspaceOpts & { name?: string; json?: boolean }): Promise<void> {
  // read and check the file before opening (or creating) a workspace
  readDetectorFile(file);
  return withWorkspace(o, async (ws) => {
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
    if (r.missingExtractor)
      logger(o.quiet)(
        `  to score images, add it: cfstudio extractor add FILE.onnx --name ${r.missingExtractor.name}`,
      );
  });
}
