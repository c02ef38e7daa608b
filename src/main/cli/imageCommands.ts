/**
 * The CLI's image commands over a workspace: datasets (scan a folder), extractors (ONNX image
 * models), extraction, training/scoring on image features, the paper's image protocols
 * (one-vs-rest, dataset-vs-dataset) and the recorded runs.
 */
import path from 'node:path';
import { CONTRAST_METHODS, METHOD_LABELS, type Method } from '../engine/detector/methods';
import { scoreDetector } from '../engine/detector/scoreDetector';
import type { Detector } from '../engine/detector/types';
import { listCatalog } from '../engine/features';
import type { ExtractorInputSpec } from '../engine/features/inputSpec';
import { loadDetector, saveDetector } from '../engine/model/cfdet';
import type { ExtractorRow, Workspace } from '../engine/store';
import {
  datasetVsDataset,
  oneVsRest,
  type ProtocolProgress,
  type ProtocolRunResult,
} from '../engine/studio/protocols';
import { extractionTargets, loadSelection, selectionLabel, type Selection } from '../engine/studio/selection';
import { trainRun } from '../engine/studio/trainRun';
import { extractorSpec, registerExtractor } from '../engine/studio/extractors';
import { UserError } from '../engine/util/errors';
import { buildConfig, type ModelOpts } from './options';
import { progressPrinter } from './progress';
import {
  addFolder,
  dataArg,
  ensureFeatures,
  extractorArg,
  logger,
  openWorkspace,
  type WorkspaceOpts,
} from './workspace';
import { writeFileAtomic } from '../engine/util/writeFileAtomic';

const out = (s: string): void => {
  process.stdout.write(s + '\n');
};
const pct = (x: number) => (Number.isFinite(x) ? (x * 100).toFixed(1) : '—');

function withWorkspace<T>(o: WorkspaceOpts, fn: (ws: Workspace) => Promise<T>): Promise<T> {
  const ws = openWorkspace(o);
  return fn(ws).finally(() => ws.close());
}

// ---------- datasets ----------

export function cmdDatasetAdd(
  folder: string,
  o: WorkspaceOpts & { name?: string; json?: boolean },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const r = await addFolder(ws, folder, { name: o.name, quiet: o.quiet, signal });
    if (o.json) {
      out(JSON.stringify(r, null, 2));
      return;
    }
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
    const list = ws.datasets.list();
    if (o.json) return out(JSON.stringify(list, null, 2));
    if (!list.length) return out(`no datasets in ${ws.file}; add one with: cfstudio dataset add FOLDER`);
    for (const d of list)
      out(
        `${d.name}\t${d.ok} images${d.unreadable ? `, ${d.unreadable} unreadable` : ''}\t${d.labels.filter(Boolean).join(',') || '-'}\t${d.root}`,
      );
  });
}

export function cmdDatasetShow(name: string, o: WorkspaceOpts & { json?: boolean }) {
  return withWorkspace(o, async (ws) => {
    const d = ws.datasets.byName(name);
    if (!d)
      throw new UserError(
        `no dataset named "${name}" in ${ws.file}`,
        'list them with: cfstudio dataset list',
      );
    const bad = ws.items.list(d.id, { status: 'unreadable' });
    const labels = ws.items.labels(d.id);
    const hashes = [...new Set(ws.items.list(d.id, { status: 'ok' }).map((i) => i.contentHash!))];
    const features = ws.extractors.list().map((e) => {
      return {
        extractor: e.name,
        withFeatures: hashes.length - ws.features.missing(e.id, hashes).length,
        of: hashes.length,
      };
    });
    if (o.json) return out(JSON.stringify({ ...d, labels, features, unreadable: bad }, null, 2));
    out(`${d.name} (${d.kind}) · ${d.root} · added ${d.created}`);
    out(`labels: ${labels.map((l) => `${l.label || '(root)'} ${l.count}`).join(', ')}`);
    for (const f of features) out(`features (${f.extractor}): ${f.withFeatures}/${f.of} images`);
    out(`unreadable: ${bad.length}`);
    for (const b of bad) out(`  ${b.relPath}: ${b.reason}`);
  });
}

export function cmdDatasetRemove(name: string, o: WorkspaceOpts) {
  return withWorkspace(o, async (ws) => {
    const d = ws.datasets.byName(name);
    if (!d) throw new UserError(`no dataset named "${name}"`, 'list them with: cfstudio dataset list');
    ws.datasets.remove(d.id);
    out(`removed dataset "${name}" (its cached features stay, keyed by image content)`);
  });
}

// ---------- extractors ----------

export function cmdExtractorAdd(model: string, o: WorkspaceOpts & { name?: string; spec?: string }) {
  return withWorkspace(o, async (ws) => {
    const r = await registerExtractor(ws, model, { name: o.name, specFile: o.spec });
    for (const w of r.warnings) logger(o.quiet)(`note: ${w}`);
    out(
      `extractor "${r.extractor.name}": ${r.extractor.path}\n  input ${describeSpec(r.spec)} (spec from ${r.specSource}) → ${r.dim}-d features`,
    );
  });
}

export function describeSpec(s: ExtractorInputSpec): string {
  return `${s.inputName} ${s.layout} ${s.width}×${s.height} ${s.channelOrder} ×${+s.scale.toPrecision(4)} mean [${s.mean.join(', ')}] std [${s.std.join(', ')}] ${s.resize}${s.l2Normalize ? ', output L2-normalized' : ''} → ${s.outputName}`;
}

export function cmdExtractorList(o: WorkspaceOpts & { json?: boolean; catalog?: boolean }) {
  return withWorkspace(o, async (ws) => {
    if (o.catalog) {
      const cat = listCatalog();
      if (o.json) return out(JSON.stringify(cat, null, 2));
      for (const e of cat)
        out(`${e.id}\t${e.name}\t${e.url ? 'downloadable' : 'local file only'}\t${e.notes ?? ''}`);
      return;
    }
    const list = ws.extractors.list();
    if (o.json) return out(JSON.stringify(list, null, 2));
    if (!list.length) out('no extractors yet; add one with: cfstudio extractor add MODEL.onnx --name moco');
    for (const e of list) out(`${e.name}\t${e.path}\tsha256 ${e.fileHash.slice(0, 12)}…`);
  });
}

// ---------- extraction ----------

export function cmdExtract(
  dataset: string,
  o: WorkspaceOpts & { extractor?: string; batch?: number; json?: boolean },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const sel = await dataArg(ws, dataset, 'extract', { quiet: o.quiet, signal });
    const ex = await extractorArg(ws, o.extractor, { quiet: o.quiet, signal });
    const r = await ensureFeatures(ws, sel, ex, { quiet: o.quiet, signal, batch: o.batch });
    if (o.json) return out(JSON.stringify(r, null, 2));
    out(
      `${r.dataset}: ${r.total} images · ${r.extracted} extracted, ${r.cached} from the cache, ${r.failed.length} failed · ${r.seconds.toFixed(1)} s` +
        (r.extracted ? ` (${r.imagesPerSec.toFixed(0)} img/s)` : ''),
    );
  });
}

// ---------- training and scoring on images ----------

function imageConfig(o: ModelOpts, m: Method, ex: ExtractorRow) {
  // METHOD §1: image features are L2-normalized (when the extractor's spec says so)
  return buildConfig(o, m, extractorSpec(ex).l2Normalize ? 'l2' : 'standardize');
}

/** Resolve data arguments, then extract their missing features. */
async function prepare(
  ws: Workspace,
  args: { arg: string; what: string }[],
  o: WorkspaceOpts & { extractor?: string },
  signal: AbortSignal,
): Promise<{ ex: ExtractorRow; sels: Selection[] }> {
  const sels: Selection[] = [];
  for (const a of args) sels.push(await dataArg(ws, a.arg, a.what, { quiet: o.quiet, signal }));
  const ex = await extractorArg(ws, o.extractor, { quiet: o.quiet, signal });
  // a whole dataset once, even when several arguments select parts of it
  for (const s of extractionTargets(sels)) await ensureFeatures(ws, s, ex, { quiet: o.quiet, signal });
  return { ex, sels };
}

export function cmdTrainImages(
  o: ModelOpts &
    WorkspaceOpts & { inliers: string; contrast?: string; out: string; extractor?: string; json?: boolean },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const log = logger(o.quiet);
    const needsContrast = CONTRAST_METHODS.includes(o.method);
    if (needsContrast && !o.contrast)
      throw new UserError(
        `method '${o.method}' needs contrast data`,
        'add --contrast FOLDER or --contrast DATASET',
      );
    if (o.contrast === 'permutation')
      log('note: permutation contrast shuffles feature columns (meant for tables); it is used as asked');
    const args = [{ arg: o.inliers, what: 'inliers' }];
    if (needsContrast && o.contrast && o.contrast !== 'permutation')
      args.push({ arg: o.contrast, what: 'contrast' });
    const { ex, sels } = await prepare(ws, args, o, signal);
    const inl = loadSelection(ws, sels[0], ex.id, 'inliers');
    const contrast = !needsContrast
      ? null
      : o.contrast === 'permutation'
        ? 'permutation'
        : loadSelection(ws, sels[1], ex.id, 'contrast');
    const r = await trainRun(
      ws,
      {
        config: imageConfig(o, o.method, ex),
        inliers: inl,
        contrast,
        extractor: ex,
      },
      { onProgress: progressPrinter(!!o.quiet), signal },
    );
    for (const n of r.detector.meta.notes) log(`note: ${n}`);
    saveDetector(r.detector, o.out);
    if (o.json) return out(JSON.stringify({ runId: r.runId, model: o.out, method: o.method }, null, 2));
    out(
      `saved ${METHOD_LABELS[o.method]} detector for ${selectionLabel(sels[0])} (${inl.items.length} images, extractor ${ex.name}) to ${o.out} · run ${r.runId} in ${ws.file}`,
    );
  });
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function cmdScoreImages(
  o: WorkspaceOpts & { model: string; input: string; out: string; top?: number },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const det: Detector = loadDetector(o.model);
    const meta = det.meta.extractor;
    if (!meta)
      throw new UserError(
        `${o.model} was trained on table features, not images`,
        'score a CSV or .npy file with the same columns instead',
      );
    const known = ws.extractors.byHash(meta.sha256);
    if (!known)
      throw new UserError(
        `${o.model} needs the extractor "${meta.name}" (sha256 ${meta.sha256.slice(0, 12)}…), which this workspace does not have`,
        `add that model file: cfstudio extractor add FILE.onnx --name ${meta.name}`,
      );
    // resolving by name checks that the model file is still there
    const ex = await extractorArg(ws, known.name, o);
    const sel = await dataArg(ws, o.input, 'input', { quiet: o.quiet, signal });
    await ensureFeatures(ws, sel, ex, { quiet: o.quiet, signal });
    const sels = [sel];
    const data = loadSelection(ws, sel, ex.id, 'input');
    const { score, logProb } = await scoreDetector(det, data.features, o.input);
    const ds = ws.datasets.get(sels[0].datasetId)!;
    const order = [...score.keys()].sort((a, b) => score[b] - score[a]);
    const lines = [['rank', 'score', ...(logProb ? ['log_prob'] : []), 'path', 'label'].join(',')];
    order.forEach((i, r) =>
      lines.push(
        [
          r + 1,
          score[i],
          ...(logProb ? [logProb[i]] : []),
          path.join(ds.root, data.items[i].relPath),
          data.items[i].label,
        ]
          .map(csvCell)
          .join(','),
      ),
    );
    writeFileAtomic(o.out, lines.join('\n') + '\n');
    out(
      `scored ${score.length} images of ${selectionLabel(sels[0])} with ${METHOD_LABELS[det.method]} → ${o.out} (most anomalous first)`,
    );
    for (const i of order.slice(0, o.top ?? 5)) out(`  ${score[i].toFixed(3)}  ${data.items[i].relPath}`);
  });
}

// ---------- the paper's image protocols ----------

function protocolProgress(quiet: boolean) {
  const train = progressPrinter(quiet);
  return (p: ProtocolProgress) => {
    if (p.train)
      train({ ...p.train, phase: `${p.index + 1}/${p.total} ${p.method} · ${p.inlier} · ${p.train.phase}` });
  };
}

function runDoneLogger(quiet?: boolean) {
  const log = logger(quiet);
  return (r: ProtocolRunResult) =>
    log(
      `${r.inlier} · ${METHOD_LABELS[r.method]}: AUROC ${pct(r.metrics.auroc)} (${r.seconds.toFixed(0)} s, run ${r.runId})`,
    );
}

export function cmdEvalOneVsRest(
  o: ModelOpts &
    WorkspaceOpts & {
      data: string;
      train?: string;
      contrast?: string;
      classes?: string;
      methods: Method[];
      extractor?: string;
      json?: string;
      matrix?: boolean;
    },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const train = o.train ?? o.data;
    const contrast = o.contrast ?? train;
    const { ex, sels } = await prepare(
      ws,
      [
        { arg: o.data, what: 'test data' },
        { arg: train, what: 'training data' },
        { arg: contrast, what: 'contrast' },
      ],
      o,
      signal,
    );
    const res = await oneVsRest(
      ws,
      {
        test: sels[0],
        train: sels[1],
        contrast: sels[2],
        methods: o.methods,
        classes: o.classes
          ? o.classes
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : null,
        config: (m) => imageConfig({ ...o, method: m }, m, ex),
        extractor: ex,
      },
      { signal, onProgress: protocolProgress(!!o.quiet), onRunDone: runDoneLogger(o.quiet) },
    );
    const w = Math.max(6, ...res.inlierClasses.map((c) => c.length));
    // column heads are the short method names: the long labels would not line up
    const cols = res.methods.map((m) => m.toUpperCase().padStart(10)).join('');
    out(
      `one-vs-rest AUROC (%) · test ${selectionLabel(sels[0])} · train ${selectionLabel(sels[1])} · contrast ${selectionLabel(sels[2])} · extractor ${ex.name}`,
    );
    out(`${'inlier'.padEnd(w)}${cols}`);
    for (const c of res.inlierClasses)
      out(
        `${c.padEnd(w)}${res.methods.map((m) => pct(res.runs.find((r) => r.inlier === c && r.method === m)!.metrics.auroc).padStart(10)).join('')}`,
      );
    out(`${'mean'.padEnd(w)}${res.methods.map((m) => pct(res.meanAuroc[m]).padStart(10)).join('')}`);
    if (o.matrix) {
      for (const m of res.methods) {
        out(`\n${METHOD_LABELS[m]}: AUROC (%) of inlier class (row) vs anomaly class (column)`);
        out(`${''.padEnd(w)}${res.classes.map((c) => c.slice(0, 7).padStart(8)).join('')}`);
        res.matrix[m].forEach((row, i) =>
          out(`${res.inlierClasses[i].padEnd(w)}${row.map((v) => pct(v).padStart(8)).join('')}`),
        );
      }
    }
    out(`\nrecorded as run ${res.parentRunId}; Figure 5 picks of each run: cfstudio runs show RUN`);
    if (o.json) writeJson(o.json, { ...res, extractor: ex.name });
  });
}

export function cmdEvalDatasetVsDataset(
  o: ModelOpts &
    WorkspaceOpts & {
      inliers: string;
      inlierTest?: string;
      anomalies: string;
      contrast: string;
      methods: Method[];
      extractor?: string;
      json?: string;
    },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const args = [
      { arg: o.inliers, what: 'inliers' },
      { arg: o.anomalies, what: 'anomalies' },
      { arg: o.contrast, what: 'contrast' },
    ];
    if (o.inlierTest) args.push({ arg: o.inlierTest, what: 'inlier test data' });
    const { ex, sels } = await prepare(ws, args, o, signal);
    const res = await datasetVsDataset(
      ws,
      {
        inliers: sels[0],
        anomalies: sels[1],
        contrast: sels[2],
        inlierTest: sels[3] ?? null,
        methods: o.methods,
        config: (m) => imageConfig({ ...o, method: m }, m, ex),
        extractor: ex,
      },
      { signal, onProgress: protocolProgress(!!o.quiet), onRunDone: runDoneLogger(o.quiet) },
    );
    out(
      `dataset-vs-dataset AUROC (%): inliers ${selectionLabel(sels[0])} vs anomalies ${selectionLabel(sels[1])}`,
    );
    for (const m of res.methods) out(`${METHOD_LABELS[m].padEnd(12)}${pct(res.auroc[m])}`);
    out(`recorded as run ${res.parentRunId}`);
    if (o.json) writeJson(o.json, res);
  });
}

function writeJson(file: string, v: unknown) {
  // NaN (the matrix diagonal) is not JSON: write null
  writeFileAtomic(
    file,
    JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2) + '\n',
  );
}

// ---------- runs ----------

export function cmdRunsList(o: WorkspaceOpts & { json?: boolean; all?: boolean }) {
  return withWorkspace(o, async (ws) => {
    const runs = ws.runs.list(o.all ? {} : { parentRunId: null });
    if (o.json) return out(JSON.stringify(runs, null, 2));
    if (!runs.length) out('no runs yet');
    for (const r of runs) {
      const m = r.metrics as { auroc?: number; meanAuroc?: Record<string, number> } | null;
      const score =
        m?.auroc !== undefined
          ? ` AUROC ${pct(m.auroc)}`
          : m?.meanAuroc
            ? ` mean AUROC ${Object.entries(m.meanAuroc)
                .map(([k, v]) => `${k} ${pct(v)}`)
                .join(', ')}`
            : '';
      out(`${r.id}\t${r.status}\t${r.method}\t${r.name ?? ''}\t${r.started ?? ''}${score}`);
    }
  });
}

export function cmdRunsShow(id: number, o: WorkspaceOpts & { json?: boolean }) {
  return withWorkspace(o, async (ws) => {
    const r = ws.runs.get(id);
    if (!r) throw new UserError(`no run ${id} in ${ws.file}`, 'list them with: cfstudio runs list --all');
    const picks = ws.scores.picks(id);
    const children = ws.runs.list({ parentRunId: id });
    if (o.json) return out(JSON.stringify({ ...r, picks, children: children.map((c) => c.id) }, null, 2));
    out(`run ${r.id} · ${r.method} · ${r.status}${r.name ? ` · ${r.name}` : ''}`);
    out(`started ${r.started ?? '—'} · finished ${r.finished ?? '—'} · backend ${r.backend ?? '—'}`);
    out(`data: ${JSON.stringify(r.selection)}`);
    if (r.error) out(`error: ${r.error}`);
    const m = r.metrics as {
      auroc?: number;
      perGroup?: Record<string, number>;
      contrastAboveEps?: number | null;
    } | null;
    if (m?.auroc !== undefined) out(`AUROC ${pct(m.auroc)}`);
    if (m?.perGroup)
      out(
        `per anomaly group: ${Object.entries(m.perGroup)
          .map(([k, v]) => `${k} ${pct(v)}`)
          .join(', ')}`,
      );
    if (m?.contrastAboveEps !== undefined && m.contrastAboveEps !== null)
      out(`contrast points above ε at the end of training: ${(m.contrastAboveEps * 100).toFixed(1)} %`);
    if (picks.length) {
      out('Figure 5 picks (score, file):');
      const titles = {
        'lowest-inlier': 'lowest-score inliers',
        'hardest-anomaly': 'hardest anomalies (lowest-score)',
        'strangest-inlier': 'strangest inliers (highest-score)',
      };
      for (const g of ['lowest-inlier', 'hardest-anomaly', 'strangest-inlier'] as const) {
        out(`  ${titles[g]}:`);
        for (const p of picks.filter((x) => x.group === g))
          out(`    ${p.score.toFixed(3)}  ${path.join(ws.datasets.get(p.datasetId)?.root ?? '', p.relPath)}`);
      }
    }
    if (children.length) out(`runs in this evaluation: ${children.map((c) => c.id).join(', ')}`);
  });
}
