/**
 * `cfstudio retrain RUN --normal FILES|FOLDER --anomalous FILES|FOLDER [--out m.cfdet]`: a new
 * run from RUN's detector and the analyst's feedback (the marks stored on RUN's lists, plus the
 * images named here), printed as before/after figures.
 */
import { exportRun, resolveImageRefs, retrainInWorker, type RetrainComparison } from '../engine/studio';
import { logger, out, pct, withWorkspace, type WorkspaceOpts } from './context';
import { textTable } from './textTable';
import { studioProgress } from './trainCommands';

export interface RetrainOpts extends WorkspaceOpts {
  normal?: string[];
  anomalous?: string[];
  share?: number;
  out?: string;
  json?: boolean;
}

export function renderComparison(c: RetrainComparison): string {
  const lines = [
    `feedback: ${c.normals} marked normal, ${c.anomalies} confirmed anomalies${c.anomalyCopies > 1 ? ` (each repeated ${c.anomalyCopies}× in the contrast set)` : ''}; compared on ${c.evaluated} evaluation images (the marked ones left out)`,
    `at ${pct(c.targetFpr)} % target FPR on the held-out inliers:`,
  ];
  const groups = [...new Set([...Object.keys(c.before.perGroup), ...Object.keys(c.after.perGroup)])].sort();
  const rows = [
    { what: 'flagged', before: String(c.before.flagged), after: String(c.after.flagged) },
    { what: 'AUROC %', before: pct(c.before.auroc), after: pct(c.after.auroc) },
    ...groups.map((g) => ({
      what: `AUROC % vs ${g}`,
      before: pct(c.before.perGroup[g]),
      after: pct(c.after.perGroup[g]),
    })),
  ];
  lines.push(
    textTable(rows, [
      { header: '', value: (r) => r.what },
      { header: 'before', value: (r) => r.before, align: 'right' },
      { header: 'after', value: (r) => r.after, align: 'right' },
    ]),
  );
  const moved = c.moved.filter((m) => m.flaggedBefore !== m.flaggedAfter);
  const right = c.moved.filter((m) => m.flaggedAfter === (m.mark === 'anomaly')).length;
  lines.push(
    `marked images on the right side of the threshold: ${c.moved.filter((m) => m.flaggedBefore === (m.mark === 'anomaly')).length} before, ${right} after (of ${c.moved.length}); ${moved.length} crossed it`,
  );
  for (const m of moved.slice(0, 20))
    lines.push(
      `  ${m.mark === 'anomaly' ? 'anomaly' : 'normal '}  ${m.before.toFixed(2)} → ${m.after.toFixed(2)}  ${m.flaggedBefore ? 'flagged' : 'passed'} → ${m.flaggedAfter ? 'flagged' : 'passed'}  ${m.relPath}`,
    );
  if (moved.length > 20) lines.push(`  … and ${moved.length - 20} more`);
  return lines.join('\n');
}

export function cmdRetrain(runId: number, o: RetrainOpts, signal: AbortSignal) {
  return withWorkspace(o, async (ws) => {
    const q = { signal };
    const normal = await resolveImageRefs(ws, o.normal ?? [], 'normal', q);
    const anomalous = await resolveImageRefs(ws, o.anomalous ?? [], 'anomalous', q);
    const r = await retrainInWorker(
      ws.file,
      { runId, normal, anomalous, anomalyShare: o.share },
      { signal, onProgress: studioProgress(o.quiet) },
    );
    for (const n of r.notes) logger(o.quiet)(`note: ${n}`);
    if (o.out) exportRun(ws, r.runId, 'cfdet', o.out);
    if (o.json)
      return out(JSON.stringify({ runId: r.runId, model: o.out ?? null, ...r.comparison }, null, 2));
    out(`retrained run ${r.fromRunId} with feedback → run ${r.runId}${o.out ? ` · saved to ${o.out}` : ''}`);
    out(renderComparison(r.comparison));
  });
}
