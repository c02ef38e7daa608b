/**
 * `cfstudio train` and `cfstudio score`, on image data (a workspace dataset or folder) or on a
 * table (CSV/.npy): thin adapters over engine/studio's train/score use cases.
 */
import {
  detectorSummary,
  flowTrainingBackend,
  methodInfo,
  METHOD_LABELS,
  readDetectorFile,
  saveDetectorFile,
  scoreTable,
  scoreWithDetector,
  scoreWithRun,
  selectionLabel,
  trainDetector,
  trainOnTable,
  type RankedScore,
  type StudioProgress,
} from '../engine/studio';
import { toCsv } from '../engine/util/csv';
import { writeFileAtomic } from '../engine/util/writeFileAtomic';
import {
  dataArg,
  extractorArg,
  extractProgress,
  logger,
  out,
  pct,
  withWorkspace,
  type WorkspaceOpts,
} from './context';
import { trainOptionsOf, type ModelOpts } from './options';
import { progressPrinter } from './progress';

/** Extraction and training progress of a use case on stderr. */
export function studioProgress(quiet?: boolean): (p: StudioProgress) => void {
  const extract = extractProgress(quiet);
  const train = progressPrinter(!!quiet);
  return (p) => (p.kind === 'extract' ? extract(p.selection, p.p) : train(p.p));
}

export function cmdTrainImages(
  o: ModelOpts &
    WorkspaceOpts & { inliers: string; contrast?: string; out: string; extractor?: string; json?: boolean },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const log = logger(o.quiet);
    const inliers = await dataArg(ws, o.inliers, 'inliers', { quiet: o.quiet, signal });
    const contrast =
      o.contrast === undefined
        ? null
        : o.contrast === 'permutation'
          ? ('permutation' as const)
          : await dataArg(ws, o.contrast, 'contrast', { quiet: o.quiet, signal });
    const extractor = await extractorArg(ws, o.extractor, { quiet: o.quiet, signal });
    if (methodInfo(o.method).flow) log(`backend: ${(await flowTrainingBackend()).name}`);
    const r = await trainDetector(
      ws,
      { method: o.method, inliers, contrast, test: null, extractor, options: trainOptionsOf(o) },
      { signal, onProgress: studioProgress(o.quiet) },
    );
    for (const n of r.notes) log(`note: ${n}`);
    saveDetectorFile(r.detector, o.out);
    const m = r.metrics;
    if (o.json)
      return out(
        JSON.stringify(
          {
            runId: r.runId,
            model: o.out,
            method: o.method,
            auroc: m.auroc ?? null,
            aurocAgainst: m.evaluation?.anomalySource ?? null,
            threshold: r.threshold,
            contrastAboveEps: m.contrastAboveEps,
          },
          null,
          2,
        ),
      );
    out(
      `saved ${METHOD_LABELS[o.method]} detector for ${selectionLabel(inliers)} (${r.inlierImages} images, extractor ${extractor.name}) to ${o.out} · run ${r.runId} in ${ws.file}`,
    );
    if (m.auroc !== undefined && m.auroc !== null)
      out(
        `AUROC ${pct(m.auroc)} (held-out inliers vs ${m.evaluation?.anomalySource === 'contrast' ? 'the contrast images, seen in training: optimistic' : 'the test set'})`,
      );
    if (r.threshold)
      out(
        `threshold ${r.threshold.threshold.toPrecision(6)} (${pct(r.threshold.targetFpr)} % target FPR on ${r.threshold.heldOutCount} held-out inliers)`,
      );
    if (m.contrastAboveEps !== null && methodInfo(o.method).needsContrast)
      out(
        `contrast above ε at the end of training: ${pct(m.contrastAboveEps)} %${m.contrastAboveEps < 0.005 ? ' — the contrast term is off: CF behaves like a plain Flow; try a higher ε' : ''}`,
      );
  });
}

export async function cmdTrainTable(
  o: ModelOpts & {
    inliers: string;
    contrast?: string;
    out: string;
    labelColumn?: string;
    quiet?: boolean;
    json?: boolean;
  },
  signal: AbortSignal,
): Promise<void> {
  const log = logger(o.quiet);
  if (methodInfo(o.method).flow) {
    const b = await flowTrainingBackend();
    log(`backend: ${b.name} (${b.detail})`);
  }
  const r = await trainOnTable(
    {
      method: o.method,
      inliers: o.inliers,
      contrast: o.contrast,
      labelColumn: o.labelColumn,
      options: trainOptionsOf(o),
      out: o.out,
    },
    { signal, onProgress: progressPrinter(!!o.quiet) },
  );
  for (const n of r.notes) log(`note: ${n}`);
  if (o.json) return out(JSON.stringify(detectorSummary(r.detector, o.out), null, 2));
  out(`saved ${METHOD_LABELS[o.method]} detector to ${o.out} (${r.detector.meta.seconds.toFixed(1)} s)`);
}

/** The ranked list of a score as CSV: rank, score, log_prob, path, label. */
function rankedCsv(ranked: readonly RankedScore[]): string {
  return toCsv(
    ['rank', 'score', 'log_prob', 'path', 'label'],
    ranked.map((r) => [r.rank, r.score, r.logProb, r.path, r.item.label]),
  );
}

export function cmdScoreImages(
  o: WorkspaceOpts & { model?: string; run?: number; input: string; out: string; top?: number },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const sel = await dataArg(ws, o.input, 'input', { quiet: o.quiet, signal });
    const hooks = { signal, onProgress: studioProgress(o.quiet) };
    let ranked: RankedScore[];
    let method: string;
    let recorded = '';
    if (o.run !== undefined) {
      const r = await scoreWithRun(ws, o.run, sel, hooks);
      ranked = r.ranked;
      method = ws.runs.get(r.detectorRunId)!.method;
      recorded = ` · recorded as run ${r.runId}${r.threshold !== null ? `, ${r.ranked.filter((x) => x.score >= r.threshold!).length} flagged at run ${r.detectorRunId}'s threshold` : ''}`;
    } else {
      const { detector } = readDetectorFile(o.model!);
      ranked = (await scoreWithDetector(ws, detector, o.model!, sel, hooks)).ranked;
      method = detector.method;
    }
    writeFileAtomic(o.out, rankedCsv(ranked));
    const label = method in METHOD_LABELS ? METHOD_LABELS[method as keyof typeof METHOD_LABELS] : method;
    out(
      `scored ${ranked.length} images of ${selectionLabel(sel)} with ${label} → ${o.out} (most anomalous first)${recorded}`,
    );
    for (const r of ranked.slice(0, o.top ?? 5)) out(`  ${r.score.toFixed(3)}  ${r.item.relPath}`);
  });
}

export async function cmdScoreTable(o: {
  model: string;
  input: string;
  out: string;
  labelColumn?: string;
}): Promise<void> {
  const r = await scoreTable(o);
  out(
    `scored ${r.rows} rows with ${METHOD_LABELS[r.method]} → ${r.out}` +
      (r.auroc !== null ? ` · AUROC ${(r.auroc * 100).toFixed(1)}` : ''),
  );
}
