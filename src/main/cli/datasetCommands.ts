/**
 * `cfstudio dataset add|list|show|remove`, `extractor add|list`, `extract`: thin adapters over
 * engine/studio that print what the use case returned.
 */
import {
  addImageDataset,
  datasetDetail,
  extractSelections,
  listCatalog,
  listDatasets,
  registerExtractor,
  removeDataset,
  type ExtractorInputSpec,
} from '../engine/studio';
import { formatResize } from '../engine/studio/extractors';
import {
  dataArg,
  extractorArg,
  extractProgress,
  logger,
  out,
  reportScan,
  scanLine,
  withWorkspace,
  type WorkspaceOpts,
} from './context';
import { formatEta, statusLine } from './progress';
import { textTable } from './textTable';

export function cmdDatasetAdd(
  folder: string,
  o: WorkspaceOpts & { name?: string; json?: boolean },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const r = await addImageDataset(ws, folder, {
      name: o.name,
      signal,
      onProgress: scanLine(folder, o.quiet),
    });
    reportScan(r, o.quiet);
    if (o.json) return out(JSON.stringify(r, null, 2));
    const labels = r.labels.filter((l) => l.label !== '');
    out(
      `${r.created ? 'added' : 'rescanned'} dataset "${r.dataset.name}" (${r.dataset.root}): ${r.ok} images` +
        (labels.length
          ? `, ${labels.length} labels (${labels.map((l) => `${l.label} ${l.count}`).join(', ')})`
          : '') +
        (r.unreadable.length + r.problems.length
          ? `; ${r.unreadable.length + r.problems.length} skipped (listed above)`
          : ''),
    );
    out(`next: cfstudio extract ${r.dataset.name} --extractor NAME_OR_FILE`);
  });
}

export function cmdDatasetList(o: WorkspaceOpts & { json?: boolean }) {
  return withWorkspace(o, async (ws) => {
    const list = listDatasets(ws);
    if (o.json) return out(JSON.stringify(list, null, 2));
    if (!list.length) return out(`no datasets in ${ws.file}; add one with: cfstudio dataset add FOLDER`);
    out(
      textTable(list, [
        { header: 'name', value: (d) => d.name },
        { header: 'images', value: (d) => String(d.ok), align: 'right' },
        { header: 'skipped', value: (d) => String(d.skipped), align: 'right' },
        {
          header: 'labels',
          value: (d) =>
            d.labels
              .map((l) => l.label)
              .filter(Boolean)
              .join(',') || '-',
          maxWidth: 60,
        },
        { header: 'folder', value: (d) => d.root },
      ]),
    );
  });
}

export function cmdDatasetShow(name: string, o: WorkspaceOpts & { json?: boolean }) {
  return withWorkspace(o, async (ws) => {
    const d = datasetDetail(ws, name);
    if (o.json) return out(JSON.stringify(d, null, 2));
    out(`${d.name} (${d.kind}) · ${d.root} · added ${d.created}`);
    out(`labels: ${d.labels.map((l) => `${l.label || '(root)'} ${l.count}`).join(', ')}`);
    for (const f of d.features) out(`features (${f.extractor}): ${f.withFeatures}/${f.of} images`);
    out(`unreadable: ${d.skippedFiles.length}`);
    for (const b of d.skippedFiles) out(`  ${b.relPath}: ${b.reason}`);
  });
}

export function cmdDatasetRemove(name: string, o: WorkspaceOpts) {
  return withWorkspace(o, async (ws) => {
    removeDataset(ws, name);
    out(`removed dataset "${name}" (its cached features stay, keyed by image content)`);
  });
}

/** `model`: an .onnx file, or a catalog id or alias (downloaded with progress, checked against its sha256). */
export function cmdExtractorAdd(
  model: string,
  o: WorkspaceOpts & { name?: string; spec?: string },
  signal?: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const line = statusLine(!!o.quiet);
    const r = await registerExtractor(ws, model, {
      name: o.name,
      specFile: o.spec,
      signal,
      onDownload: (p) =>
        line(
          `[download ${model}] ${(p.received / 1e6).toFixed(1)}${p.total ? `/${(p.total / 1e6).toFixed(1)}` : ''} MB · ${(p.bytesPerSec / 1e6).toFixed(1)} MB/s · ETA ${formatEta(p.etaSeconds)}`,
          p.total !== null && p.received === p.total,
        ),
    });
    for (const w of r.warnings) logger(o.quiet)(`note: ${w}`);
    if (r.downloaded) out(`catalog entry ${r.downloaded.entryId}: ${r.downloaded.file} (sha256 verified)`);
    out(
      `extractor "${r.extractor.name}": ${r.extractor.path}\n  input ${describeSpec(r.spec)} (spec from ${r.specSource}) → ${r.dim}-d features` +
        `\n  features: ${r.outputNote}`,
    );
  });
}

export function describeSpec(s: ExtractorInputSpec): string {
  return `${s.inputName} ${s.layout} ${s.width}×${s.height} ${s.channelOrder} ×${+s.scale.toPrecision(4)} mean [${s.mean.join(', ')}] std [${s.std.join(', ')}] ${formatResize(s)}${s.l2Normalize ? ', output L2-normalized' : ''} → ${s.outputName}`;
}

export function cmdExtractorList(o: WorkspaceOpts & { json?: boolean; catalog?: boolean }) {
  return withWorkspace(o, async (ws) => {
    if (o.catalog) {
      const cat = listCatalog();
      if (o.json) return out(JSON.stringify(cat, null, 2));
      for (const e of cat)
        out(
          `${e.id}${e.aliases.length ? ` (${e.aliases.join(', ')})` : ''}\t${e.name}\t${e.url ? `downloadable, ${e.bytes ? `${(e.bytes / 1e6).toFixed(1)} MB` : 'size unknown'}` : 'local file only'}\t${e.notes ?? ''}`,
        );
      return;
    }
    const list = ws.extractors.list();
    if (o.json) return out(JSON.stringify(list, null, 2));
    if (!list.length) out('no extractors yet; add one with: cfstudio extractor add MODEL.onnx --name moco');
    for (const e of list) out(`${e.name}\t${e.path}\tsha256 ${e.fileHash.slice(0, 12)}…`);
  });
}

export function cmdExtract(
  dataset: string,
  o: WorkspaceOpts & { extractor?: string; batch?: number; json?: boolean },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const sel = await dataArg(ws, dataset, 'extract', { quiet: o.quiet, signal });
    const ex = await extractorArg(ws, o.extractor, { quiet: o.quiet, signal });
    const [r] = await extractSelections(ws, [sel], ex, {
      signal,
      batch: o.batch,
      onProgress: extractProgress(o.quiet),
    });
    for (const f of r.failed) logger(o.quiet)(`  could not decode ${f.relPath}: ${f.reason}`);
    if (o.json) return out(JSON.stringify(r, null, 2));
    out(
      `${r.selection}: ${r.total} images · ${r.extracted} extracted, ${r.cached} from the cache, ${r.failed.length} failed · ${r.seconds.toFixed(1)} s` +
        (r.extracted ? ` (${r.imagesPerSec.toFixed(0)} img/s)` : ''),
    );
  });
}
