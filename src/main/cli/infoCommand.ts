/** `cfstudio info [MODEL]`: the training backends (and why others did not run), or a model file's contents. */
import { backendReport, modelFileInfo } from '../engine/studio';
import { out } from './context';

export function formatSummary(s: Record<string, unknown>): string {
  return Object.entries(s)
    .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join('\n');
}

export async function cmdInfo(model: string | undefined, o: { json?: boolean }): Promise<void> {
  if (model) {
    const s = await modelFileInfo(model);
    return out(o.json ? JSON.stringify(s, null, 2) : formatSummary(s));
  }
  const s = await backendReport();
  if (o.json) return out(JSON.stringify(s, null, 2));
  const lines = [
    `CF Studio ${s.appVersion} · Node ${s.node} · ${s.platform}`,
    `training backend: ${s.training.backend} (${s.training.package}, tfjs ${s.training.tfjsVersion})`,
    `flow training step: ${s.flowTraining.backend} — ${s.flowTraining.detail}`,
    'backends tried:',
  ];
  for (const a of s.training.attempts)
    lines.push(`  ${a.ok ? '✓' : '✗'} ${a.name}${a.reason ? ` — ${a.reason}` : ''}`);
  const ort = s.onnxRuntime;
  lines.push(`ONNX Runtime device: ${ort.device} (tried in order: ${ort.tryOrder.join(', ')})`);
  for (const p of ort.providers)
    lines.push(
      `  ${p.unavailable === null ? '✓' : '✗'} ${p.provider}${p.offered ? (p.bundled ? '' : ' (installed separately)') : ' (not in this build)'}${p.unavailable ? ` — ${p.unavailable}` : ''}`,
    );
  out(lines.join('\n'));
}
