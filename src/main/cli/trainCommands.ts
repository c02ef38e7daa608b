/**
 * `cfstudio train` and `cfstudio score`, on image data (a workspace dataset or folder) or on a
 * table (CSV/.npy): thin adapters over engine/studio's train/score use cases.
 */
import {
  detectorSummary,
  exportRun,
  flowTrainingBackend,
  methodInfo,
  METHOD_LABELS,
  readDetectorFile,
  scoreTable,
  scoreListCsv,
  scoreWithDetector,
  scoreWithRun,
  selectionLabel,
  setThreshold,
  trainDetectorInWorker,
  trainOnTable,
  decisionFor,
  detectorWithDecision,
  runDetector,
  type DecisionAsk,
  type RankedScore,
  type StudioProgress,
} from '../engine/studio';
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
  return (p) => {
    if (p.kind === 'extract') extract(p.selection, p.p);
    else if (p.kind === 'train') train(p.p);
  };
}

export function cmdTrainImages(
  o: ModelOpts &
    WorkspaceOpts &
    DecisionAsk & { inliers: string; contrast?: string; out: string; extractor?: string; json?: boolean },
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
    // in a worker thread: this one keeps the progress display and Ctrl-C responsive
    const r = await trainDetectorInWorker(
      ws.file,
      { method: o.method, inliers, contrast, test: null, extractor, options: trainOptionsOf(o) },
      { signal, onProgress: studioProgress(o.quiet) },
    );
    for (const n of r.notes) log(`note: ${n}`);
    const fpr = o.fpr ?? o.contamination;
    if (fpr !== undefined) r.threshold = setThreshold(ws, r.runId, fpr);
    // the run's detector with its threshold and held-out scores
    exportRun(ws, r.runId, 'cfdet', o.out);
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

export function cmdScoreImages(
  o: WorkspaceOpts & DecisionAsk & { model?: string; run?: number; input: string; out: string; top?: number },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const sel = await dataArg(ws, o.input, 'input', { quiet: o.quiet, signal });
    const hooks = { signal, onProgress: studioProgress(o.quiet) };
    let ranked: RankedScore[];
    let detector;
    let recorded = '';
    if (o.run !== undefined) {
      const r = await scoreWithRun(ws, o.run, sel, hooks);
      ranked = r.ranked;
      // the detector as the run decides with it (its threshold and held-out scores)
      detector = detectorWithDecision(ws, r.detectorRunId, runDetector(ws, r.detectorRunId).detector);
      recorded = ` · recorded as run ${r.runId}`;
    } else {
      detector = readDetectorFile(o.model!).detector;
      ranked = (await scoreWithDetector(ws, detector, o.model!, sel, hooks)).ranked;
    }
    const decision = decisionFor(
      detector,
      o,
      ranked.map((r) => r.score),
    );
    writeFileAtomic(o.out, scoreListCsv(ranked, decision?.threshold ?? null));
    out(
      `scored ${ranked.length} images of ${selectionLabel(sel)} with ${METHOD_LABELS[detector.method]} → ${o.out} (most anomalous first)${recorded}`,
    );
    if (decision)
      out(
        `${ranked.filter((r) => r.score >= decision.threshold).length} flagged (is_anomaly) at ${decision.threshold.toPrecision(6)}: ${decision.rule}`,
      );
    for (const r of ranked.slice(0, o.top ?? 5)) out(`  ${r.score.toFixed(3)}  ${r.item.relPath}`);
  });
}

export async function cmdScoreTable(
  o: DecisionAsk & { model: string; input: string; out: string; labelColumn?: string },
): Promise<void> {
  const r = await scoreTable(o);
  out(
    `scored ${r.rows} rows with ${METHOD_LABELS[r.method]} → ${r.out}` +
      (r.auroc !== null ? ` · AUROC ${(r.auroc * 100).toFixed(1)}` : ''),
  );
  if (r.decision)
    out(
      `${r.decision.flagged} flagged (is_anomaly) at ${r.decision.threshold.toPrecision(6)}: ${r.decision.rule}`,
    );
}
