/**
 * Errors meant for the user: what failed, on which input, with a code and the data a front
 * end needs to say what to do about it.
 *
 * The engine never names a front end's controls: no CLI command or flag, no button. An error
 * whose remedy depends on the front end has a code from `ErrorDataByCode`; the CLI
 * (src/main/cli/hints.ts) and the app (src/main/ipc/hints.ts) each turn code + data into their
 * own hint ("add it: cfstudio extractor add FILE.onnx" vs "Import .onnx… on the New detector
 * page"). Errors whose advice holds everywhere ("check the file's line 3") keep the code
 * 'invalid-input' and a neutral `hint`.
 */

/** The data each coded error carries (the values a hint needs: names, ids, paths, lists). */
export interface ErrorDataByCode {
  /** bad input whose message says it all; `hint`, when given, is front-end neutral */
  'invalid-input': Record<string, never>;
  /** a data reference that is not a dataset; `folder` = a folder of that name exists here */
  'data-ref-unknown': { ref: string; role: string; known: string[]; folder: string | null };
  /** a path that does not exist */
  'path-not-found': { path: string; resolved: string; role: string };
  'dataset-missing': { datasetId: number; role: string };
  'dataset-no-images': { dataset: string; role: string };
  'dataset-name-taken': { name: string; root: string };
  'label-unknown': { dataset: string; labels: string[]; known: string[]; role: string };
  'run-missing': { runId: number };
  'run-no-model': { runId: number; method: string; status: string };
  'run-no-held-out': { runId: number };
  /** a score run has no threshold of its own: it follows its parent's */
  'run-follows-parent': { runId: number; parentRunId: number };
  'item-not-scored': { runId: number; itemId: number };
  'extractor-none': Record<string, never>;
  'extractor-ambiguous': { names: string[] };
  'extractor-unknown': { ref: string; known: string[] };
  'extractor-id-missing': { extractorId: number };
  'extractor-file-gone': { name: string; path: string };
  'extractor-name-taken': { name: string; path: string };
  /** a detector (file or run) needs an extractor the workspace does not have */
  'extractor-not-in-workspace': { name: string; sha256: string; source: string };
  'method-needs-contrast': { method: string; label: string };
  'permutation-contrast-on-images': Record<string, never>;
  'too-few-inliers': { selection: string; count: number; min: number };
  'method-not-exportable': { method: string; label: string };
  'detector-not-for-images': { source: string };
  'output-folder-missing': { path: string; folder: string };
  'workspace-foreign': { file: string };
  'workspace-newer': { file: string; version: number; known: number };
  'auto-eps-too-few-held-out': { heldOut: number; min: number };
  /** a run whose detector cannot be retrained (imported, unfinished, no held-out inliers) */
  'run-not-retrainable': { runId: number };
  /** a retrain without any marked image */
  'no-feedback': { runId: number };
}

export type ErrorCode = keyof ErrorDataByCode;

export class UserError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly data: ErrorDataByCode[C];
  /** advice that holds in every front end (coded errors leave it to the front end) */
  readonly hint?: string;

  constructor(message: string, hint?: string, details?: { code: C; data: ErrorDataByCode[C] }) {
    super(message);
    this.name = 'UserError';
    this.hint = hint;
    this.code = details?.code ?? ('invalid-input' as C);
    this.data = details?.data ?? ({} as ErrorDataByCode[C]);
  }
}

/** A coded user error: `message` says what failed; front ends add their own hint from `data`. */
export function userError<C extends ErrorCode>(
  code: C,
  message: string,
  data: ErrorDataByCode[C],
  hint?: string,
): UserError<C> {
  return new UserError(message, hint, { code, data });
}

/** Per front end: how to advise on each code (codes without an entry show the neutral hint). */
export type HintTable = { [C in ErrorCode]?: (data: ErrorDataByCode[C]) => string };

/** The hint a front end shows for `e`: its own for the code, else the error's neutral hint. */
export function hintFor(e: UserError, table: HintTable): string | null {
  const f = table[e.code] as ((d: unknown) => string) | undefined;
  return f ? f(e.data) : (e.hint ?? null);
}

/** Thrown when a long job is cancelled through its AbortSignal. */
export class CancelledError extends Error {
  constructor(what = 'operation') {
    super(`${what} cancelled`);
    this.name = 'CancelledError';
  }
}
