/**
 * Progress lines on stderr: rewritten in place on a terminal (~5/s), one line every few
 * seconds when stderr is a file or a CI log.
 */
import type { TrainProgress } from '../engine/studio';

export function progressPrinter(quiet: boolean): (p: TrainProgress) => void {
  let lastPrint = 0;
  let lastPhase = '';
  const tty = process.stderr.isTTY;
  return (p) => {
    if (quiet) return;
    const now = Date.now();
    const done = p.step === p.totalSteps;
    if (!done && p.phase === lastPhase && now - lastPrint < (tty ? 200 : 5000)) return;
    lastPrint = now;
    lastPhase = p.phase;
    const contrast = Number.isNaN(p.contrastNll)
      ? ''
      : ` contrast NLL ${p.contrastNll.toFixed(3)} above ε ${(p.contrastAboveEps * 100).toFixed(0)}%`;
    const held = p.heldOutNll === null ? '' : ` held-out NLL ${p.heldOutNll.toFixed(3)}`;
    const line = `[${p.phase}] step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)} inlier NLL ${p.inlierNll.toFixed(3)}${contrast}${held} · ${p.stepsPerSec.toFixed(1)} steps/s · ETA ${Math.ceil(p.etaSeconds)} s`;
    if (tty) process.stderr.write(`\r\x1b[2K${line}${done ? '\n' : ''}`);
    else process.stderr.write(line + '\n');
  };
}

/** A throttled status line: in place on a terminal, every few seconds in a log. */
export function statusLine(quiet: boolean): (line: string, final?: boolean) => void {
  let last = 0;
  const tty = process.stderr.isTTY;
  return (line, final = false) => {
    if (quiet) return;
    const now = Date.now();
    if (!final && now - last < (tty ? 200 : 5000)) return;
    last = now;
    if (tty) process.stderr.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else process.stderr.write(line + '\n');
  };
}

export function formatEta(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '—';
  if (s < 90) return `${Math.ceil(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
