/**
 * How the CLI's image commands reach the workspace: which SQLite file (--workspace, else the
 * user data folder), what a data argument means (a folder → added as a dataset if new; else a
 * dataset selector NAME[:labels]), which extractor to use, and extracting missing features with
 * a progress line before anything trains or scores.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runExtractJob } from '../engine/jobs/runExtractJob';
import { defaultWorkspacePath, Workspace, type ExtractorRow } from '../engine/store';
import { addImageDataset, datasetForRoot, type AddDatasetResult } from '../engine/studio/datasets';
import { extractorSpec, resolveExtractor } from '../engine/studio/extractors';
import { parseSelection, selectionLabel, type Selection } from '../engine/studio/selection';
import type { ExtractResult } from '../engine/jobs/extractFeatures';
import { formatEta, statusLine } from './progress';

export interface WorkspaceOpts {
  workspace?: string;
  quiet?: boolean;
}

export function openWorkspace(o: WorkspaceOpts): Workspace {
  return Workspace.open(o.workspace ?? defaultWorkspacePath());
}

export function logger(quiet?: boolean): (s: string) => void {
  return (s) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
}

export function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Scans a folder into the workspace with a progress line; prints what was skipped and why. */
export async function addFolder(
  ws: Workspace,
  folder: string,
  o: { name?: string; quiet?: boolean; signal?: AbortSignal },
): Promise<AddDatasetResult> {
  const line = statusLine(!!o.quiet);
  const r = await addImageDataset(ws, folder, {
    name: o.name,
    signal: o.signal,
    onProgress: (p) =>
      line(
        `[scan ${path.basename(folder)}] ${p.checked}/${p.found} files · ${p.ok} images · ${p.skipped} skipped`,
      ),
  });
  line(
    `[scan ${r.dataset.name}] ${r.ok + r.unreadable.length} files checked in ${r.seconds.toFixed(1)} s`,
    true,
  );
  const log = logger(o.quiet);
  for (const u of r.unreadable) log(`  skipped ${u.relPath}: ${u.reason}`);
  for (const p of r.problems) log(`  skipped ${p.relPath}: ${p.reason}`);
  return r;
}

/** A data argument: an existing folder (registered on first use) or a dataset selector. */
export async function dataArg(
  ws: Workspace,
  arg: string,
  what: string,
  o: { quiet?: boolean; signal?: AbortSignal },
): Promise<Selection> {
  if (isFolder(arg)) {
    const known = datasetForRoot(ws, arg);
    const ds = known ?? (await addFolder(ws, arg, o)).dataset;
    if (known)
      logger(o.quiet)(
        `${what}: using dataset "${ds.name}" (${ds.root}); rescan with: cfstudio dataset add ${arg}`,
      );
    return { datasetId: ds.id, datasetName: ds.name, labels: null };
  }
  return parseSelection(ws, arg, what);
}

/** The extractor named by --extractor (workspace name, catalog id or .onnx file), or the workspace's only one. */
export async function extractorArg(
  ws: Workspace,
  ref: string | undefined,
  o: { quiet?: boolean; signal?: AbortSignal },
) {
  const line = statusLine(!!o.quiet);
  const r = await resolveExtractor(ws, ref, {
    signal: o.signal,
    onDownload: (p) =>
      line(
        `[download] ${(p.received / 1e6).toFixed(1)}${p.total ? `/${(p.total / 1e6).toFixed(1)}` : ''} MB · ${(p.bytesPerSec / 1e6).toFixed(1)} MB/s · ETA ${formatEta(p.etaSeconds)}`,
        p.total !== null && p.received === p.total,
      ),
  });
  for (const w of r.warnings) logger(o.quiet)(`note: ${w}`);
  return r.extractor;
}

/** Extracts whatever features of `sel`'s dataset are missing (a no-op when all are cached). */
export async function ensureFeatures(
  ws: Workspace,
  sel: Selection,
  extractor: ExtractorRow,
  o: { quiet?: boolean; signal?: AbortSignal; batch?: number },
): Promise<ExtractResult> {
  const line = statusLine(!!o.quiet);
  const name = selectionLabel(sel);
  const r = await runExtractJob(
    {
      workspaceFile: ws.file,
      datasetId: sel.datasetId,
      labels: sel.labels,
      extractorId: extractor.id,
      modelFile: extractor.path,
      spec: extractorSpec(extractor),
      batchSize: o.batch,
    },
    {
      signal: o.signal,
      onProgress: (p) =>
        p.done < p.total &&
        line(
          `[extract ${name}] ${p.done}/${p.total} images${p.cached ? ` (${p.cached} cached)` : ''} · ${p.imagesPerSec.toFixed(0)} img/s · ETA ${formatEta(p.etaSeconds)}${p.failed ? ` · ${p.failed} failed` : ''}`,
        ),
    },
  );
  if (r.extracted > 0 || r.failed.length > 0)
    line(
      `[extract ${name}] ${r.extracted} extracted, ${r.cached} cached, ${r.failed.length} failed · ${r.imagesPerSec.toFixed(0)} img/s (${r.provider ?? 'cpu'})`,
      true,
    );
  for (const f of r.failed) logger(o.quiet)(`  could not decode ${f.relPath}: ${f.reason}`);
  return r;
}
