/**
 * Extracting features: whatever images of some selections have no features yet for an
 * extractor are run through it in a worker thread (jobs/extractFeatures.ts: parallel decode,
 * batches, one transaction per batch, cached by image content). Each dataset is extracted once
 * even when several selections take parts of it.
 */
import fs from 'node:fs';
import type { ExtractProgress, ExtractResult } from '../jobs/extractFeatures';
import { runExtractJob } from '../jobs/runExtractJob';
import type { ExtractorRow, Workspace } from '../store';
import { CancelledError, userError } from '../util/errors';
import { extractorSpec } from './extractors';
import { extractionTargets, selectionLabel, type Selection } from './selection';

export type { ExtractProgress, ExtractResult };

export interface ExtractionHooks {
  signal?: AbortSignal;
  /** `selection`: the display name of what is being extracted */
  onProgress?: (selection: string, p: ExtractProgress) => void;
  /** images per model batch */
  batch?: number;
}

/** The items of `sel` that still need features of `extractor` (unique images). */
function missingImages(ws: Workspace, sel: Selection, extractor: ExtractorRow): number {
  const hashes = [
    ...new Set(
      ws.items
        .list(sel.datasetId, { status: 'ok', labels: sel.labels ?? undefined })
        .map((i) => i.contentHash)
        .filter((h): h is string => h !== null),
    ),
  ];
  return ws.features.missing(extractor.id, hashes).length;
}

/** Extracts the missing features of each selection (each dataset once); one result per extraction. */
export async function extractSelections(
  ws: Workspace,
  sels: readonly Selection[],
  extractor: ExtractorRow,
  hooks: ExtractionHooks = {},
): Promise<(ExtractResult & { selection: string })[]> {
  const results: (ExtractResult & { selection: string })[] = [];
  for (const s of extractionTargets(sels)) {
    const name = selectionLabel(s);
    if (hooks.signal?.aborted) throw new CancelledError(`extraction of ${name}`);
    if (missingImages(ws, s, extractor) > 0 && !fs.existsSync(extractor.path))
      throw userError(
        'extractor-file-gone',
        `${name} needs features of extractor "${extractor.name}", whose model file is gone: ${extractor.path}`,
        { name: extractor.name, path: extractor.path },
      );
    const r = await runExtractJob(
      {
        workspaceFile: ws.file,
        datasetId: s.datasetId,
        labels: s.labels,
        extractorId: extractor.id,
        modelFile: extractor.path,
        spec: extractorSpec(extractor),
        batchSize: hooks.batch,
      },
      { signal: hooks.signal, onProgress: (p) => hooks.onProgress?.(name, p) },
    );
    results.push({ ...r, selection: name });
  }
  return results;
}
