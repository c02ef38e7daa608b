/**
 * What every workspace command of the CLI shares: opening the workspace (--workspace, else
 * $CFSTUDIO_WORKSPACE or the user data folder), messages on stderr, reading data arguments (and
 * saying what each resolved to), extractors (with a download line), and extraction progress.
 */
import path from 'node:path';
import {
  openWorkspace,
  resolveDataRef,
  resolveExtractor,
  selectionLabel,
  type AddDatasetResult,
  type ExtractProgress,
  type ExtractorInfo,
  type ResolvedData,
  type ScanProgress,
  type Selection,
  type Workspace,
} from '../engine/studio';
import { formatEta, statusLine } from './progress';

export interface WorkspaceOpts {
  workspace?: string;
  quiet?: boolean;
}

export function withWorkspace<T>(o: WorkspaceOpts, fn: (ws: Workspace) => Promise<T>): Promise<T> {
  const ws = openWorkspace(o.workspace);
  return fn(ws).finally(() => ws.close());
}

export const out = (s: string): void => {
  process.stdout.write(s + '\n');
};

export function logger(quiet?: boolean): (s: string) => void {
  return (s) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
}

/** A scan's progress line. */
export function scanLine(folder: string, quiet?: boolean): (p: ScanProgress) => void {
  const line = statusLine(!!quiet);
  return (p) =>
    line(
      `[scan ${path.basename(folder)}] ${p.checked}/${p.found} files · ${p.ok} images · ${p.skipped} skipped`,
    );
}

/** What a scan skipped, and how long it took. */
export function reportScan(r: AddDatasetResult, quiet?: boolean): void {
  statusLine(!!quiet)(
    `[scan ${r.dataset.name}] ${r.ok + r.unreadable.length} files checked in ${r.seconds.toFixed(1)} s`,
    true,
  );
  const log = logger(quiet);
  for (const u of r.unreadable) log(`  skipped ${u.relPath}: ${u.reason}`);
  for (const p of r.problems) log(`  skipped ${p.relPath}: ${p.reason}`);
}

/** How a data argument was read, in one line. */
export function describeResolved(role: string, text: string, r: ResolvedData): string {
  const what = selectionLabel(r.selection);
  if (r.resolvedAs === 'dataset') return `${role}: dataset ${what}`;
  if (r.resolvedAs === 'registered-folder')
    return `${role}: folder ${text} = dataset "${what}" (rescan it with: cfstudio dataset add ${text})`;
  return `${role}: folder ${text} added as dataset "${what}" (${r.scan!.ok} images)`;
}

/** A data argument (see the rule in engine/studio/selection.ts), reported on stderr. */
export async function dataArg(
  ws: Workspace,
  text: string,
  role: string,
  o: { quiet?: boolean; signal?: AbortSignal },
): Promise<Selection> {
  const r = await resolveDataRef(ws, text, role, { signal: o.signal, onScan: scanLine(text, o.quiet) });
  if (r.scan) reportScan(r.scan, o.quiet);
  logger(o.quiet)(describeResolved(role, text, r));
  return r.selection;
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

/** Extraction progress lines, one per selection being extracted. */
export function extractProgress(quiet?: boolean): (selection: string, p: ExtractProgress) => void {
  const line = statusLine(!!quiet);
  return (name, p) => {
    if (p.done + p.failed < p.total)
      line(
        `[extract ${name}] ${p.done}/${p.total} images${p.cached ? ` (${p.cached} cached)` : ''} · ${p.imagesPerSec.toFixed(0)} img/s · ETA ${formatEta(p.etaSeconds)}${p.failed ? ` · ${p.failed} failed` : ''}`,
      );
    else if (p.done + p.failed > p.cached)
      line(
        `[extract ${name}] ${p.done - p.cached} extracted, ${p.cached} cached, ${p.failed} failed · ${p.imagesPerSec.toFixed(0)} img/s (${p.provider ?? 'cpu'})`,
        true,
      );
  };
}

export type { ExtractorInfo };

/** Percent with one decimal, '—' for NaN/null. */
export function pct(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? (x * 100).toFixed(1) : '—';
}
