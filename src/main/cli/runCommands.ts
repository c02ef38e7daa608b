/** `cfstudio runs list|show|prototypes`: the recorded runs, as a table, in detail (with Figure 5 picks), and what a detector thinks is normal. */
import { listRuns, runDetail, runPrototypes, runThresholdOrNull, type RunSummary } from '../engine/studio';
import { out, pct, withWorkspace, type WorkspaceOpts } from './context';
import { renderComparison } from './retrainCommand';
import { textTable } from './textTable';

function duration(s: number | null): string {
  if (s === null) return '—';
  return s < 90 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

export function cmdRunsList(o: WorkspaceOpts & { json?: boolean; all?: boolean }) {
  return withWorkspace(o, async (ws) => {
    const runs = listRuns(ws, { topLevel: !o.all });
    const auroc = (r: RunSummary): string =>
      r.meanAuroc
        ? Object.entries(r.meanAuroc)
            .map(([m, v]) => `${m} ${pct(v)}`)
            .join(', ')
        : pct(r.auroc);
    const threshold = (r: RunSummary) => {
      const t = r.status === 'done' ? runThresholdOrNull(ws, r.id) : null;
      return t ? `${t.threshold.toPrecision(4)} @${pct(t.targetFpr)}%` : '—';
    };
    if (o.json)
      return out(
        JSON.stringify(
          runs.map((r) => ({ ...r, threshold: runThresholdOrNull(ws, r.id) })),
          null,
          2,
        ),
      );
    if (!runs.length) return out(`no runs yet in ${ws.file}`);
    out(
      textTable(runs, [
        { header: 'run', value: (r) => String(r.id), align: 'right' },
        { header: 'status', value: (r) => r.status },
        { header: 'method', value: (r) => (r.kind === 'score' ? `score (run ${r.parentRunId})` : r.method) },
        { header: 'inliers', value: (r) => r.inliers ?? '—', maxWidth: 28 },
        { header: 'contrast', value: (r) => r.contrast ?? '—', maxWidth: 24 },
        { header: 'AUROC %', value: auroc, maxWidth: 40 },
        { header: 'threshold', value: threshold },
        { header: 'time', value: (r) => duration(r.trainSeconds), align: 'right' },
        { header: 'backend', value: (r) => r.backend ?? '—' },
        { header: 'name', value: (r) => r.name ?? '', maxWidth: 40 },
      ]),
    );
    if (!o.all && runs.some((r) => r.kind === 'protocol'))
      out('(per-class runs of evaluations: cfstudio runs list --all)');
  });
}

export function cmdRunsShow(id: number, o: WorkspaceOpts & { json?: boolean }) {
  return withWorkspace(o, async (ws) => {
    const d = runDetail(ws, id);
    if (o.json) return out(JSON.stringify(d, null, 2));
    out(`run ${d.id} · ${d.methodLabel} · ${d.status}${d.name ? ` · ${d.name}` : ''}`);
    out(`started ${d.startedAt ?? '—'} · finished ${d.finishedAt ?? '—'} · backend ${d.backend ?? '—'}`);
    out(
      `data: inliers ${d.inliers ?? '—'} · contrast ${d.contrast ?? '—'} · ${d.kind === 'score' ? 'scored' : 'test'} ${d.test ?? '—'}`,
    );
    if (d.error) out(`error: ${d.error}`);
    if (d.auroc !== null) out(`AUROC ${pct(d.auroc)}${d.aurocNote ? ` (${d.aurocNote})` : ''}`);
    const groups = Object.entries(d.perGroup);
    if (groups.length) out(`per anomaly group: ${groups.map(([k, v]) => `${k} ${pct(v)}`).join(', ')}`);
    const above = d.metrics?.contrastAboveEps;
    if (typeof above === 'number')
      out(`contrast points above ε at the end of training: ${(above * 100).toFixed(1)} %`);
    if (d.decision)
      out(
        `AUPR ${pct(d.decision.aupr)} · FPR at 95 % TPR ${pct(d.decision.fprAt95Tpr)}` +
          (d.decision.atThreshold
            ? ` · at the threshold: precision ${pct(d.decision.atThreshold.precision)}, recall ${pct(d.decision.atThreshold.recall)}, F1 ${pct(d.decision.atThreshold.f1)}`
            : ''),
      );
    if (d.threshold)
      out(
        `threshold ${d.threshold.threshold.toPrecision(6)} at ${pct(d.threshold.targetFpr)} % target FPR: ${d.threshold.flagged} of ${d.scored} flagged`,
      );
    if (d.live)
      out(
        `running: ${d.live.phase} ${d.live.done}/${d.live.total}${d.live.etaSeconds !== null ? ` · ETA ${Math.ceil(d.live.etaSeconds)} s` : ''}${typeof d.live.contrastAboveEps === 'number' ? ` · contrast above ε ${pct(d.live.contrastAboveEps)} %` : ''} (as of ${d.live.updated})`,
      );
    if (d.marks.normal + d.marks.anomaly)
      out(
        `marked: ${d.marks.normal} normal, ${d.marks.anomaly} anomaly (retrain with: cfstudio retrain ${d.id})`,
      );
    if (d.retrain) out(`retrained from run ${d.retrain.fromRunId}:\n${renderComparison(d.retrain)}`);
    if (d.picks.length) {
      out('Figure 5 picks (score, file):');
      const titles = {
        'lowest-inlier': 'lowest-score inliers',
        'hardest-anomaly': 'hardest anomalies (lowest-score)',
        'strangest-inlier': 'strangest inliers (highest-score)',
      };
      for (const g of ['lowest-inlier', 'hardest-anomaly', 'strangest-inlier'] as const) {
        out(`  ${titles[g]}:`);
        for (const p of d.picks.filter((x) => x.group === g)) out(`    ${p.score.toFixed(3)}  ${p.path}`);
      }
    }
    if (d.children.length)
      out(
        `${d.kind === 'protocol' ? 'runs in this evaluation' : 'score runs of this detector'}: ${d.children.join(', ')}`,
      );
  });
}

export function cmdRunsPrototypes(
  id: number,
  o: WorkspaceOpts & { count?: number; temperature?: number; json?: boolean },
) {
  return withWorkspace(o, async (ws) => {
    const r = await runPrototypes(ws, id, { count: o.count, temperature: o.temperature });
    if (o.json) return out(JSON.stringify(r, null, 2));
    out(
      `${r.prototypes.length} samples of run ${r.runId}'s flow (z ~ N(0, ${r.temperature}²·I)), each with its nearest real images:`,
    );
    for (const [i, p] of r.prototypes.entries())
      out(
        `  #${i + 1} log p ${p.logProb.toFixed(1)}: ${p.nearest.map((n) => `${n.role} ${n.relPath} (${n.distance.toFixed(3)})`).join(', ')}`,
      );
    if (r.heldOutMedianLogProb !== null)
      out(`median log p of the held-out inliers: ${r.heldOutMedianLogProb.toFixed(1)}`);
    out(
      `nearest image is an inlier for ${pct(r.nearestInlierShare)} % of the samples (chance: ${pct(r.chance)} %)`,
    );
  });
}
