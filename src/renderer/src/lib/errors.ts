import type { ApiError } from '../../../shared/ipc';

function isApiError(value: unknown): value is ApiError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.message === 'string' && (v.hint === null || typeof v.hint === 'string');
}

/**
 * What to show for a failure: the ApiError a rejected `invoke` carries, or a plain message.
 * Never a stack trace.
 */
export function toApiError(err: unknown): ApiError {
  if (typeof err === 'object' && err !== null && 'apiError' in err) {
    const inner = (err as { apiError: unknown }).apiError;
    if (isApiError(inner))
      return { message: inner.message, hint: inner.hint, kind: inner.kind ?? 'internal' };
  }
  if (isApiError(err)) return { message: err.message, hint: err.hint, kind: err.kind ?? 'internal' };
  if (err instanceof Error) return { message: firstLine(err.message), hint: null, kind: 'internal' };
  return { message: firstLine(String(err)), hint: null, kind: 'internal' };
}

/** Electron prefixes remote errors ("Error invoking remote method 'x': Error: …"); keep the reason. */
function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  const m = /^Error invoking remote method '[^']+': (?:\w*Error: )?(.*)$/.exec(line);
  return m ? m[1] : line;
}
