/**
 * Worker-thread entry of a feature-extraction job: opens its own connection to the workspace
 * (SQLite in WAL mode lets the caller keep reading) and runs extractFeatures.
 */
import { extractFeatures, type ExtractProgress, type ExtractResult } from './extractFeatures';
import { Workspace } from '../store';
import { serveJob } from './serveJob';
import type { ExtractJobInput } from './runExtractJob';

serveJob<ExtractJobInput, ExtractProgress, ExtractResult>(async (m, ctx) => {
  const ws = Workspace.open(m.workspaceFile);
  try {
    return await extractFeatures(ws, { ...m, signal: ctx.signal, onProgress: ctx.progress });
  } finally {
    ws.close();
  }
});
