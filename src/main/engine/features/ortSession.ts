/**
 * Opens an ONNX Runtime session on a model (file or bytes), choosing the execution provider from
 * the device asked for (backend/ortProviders.ts: GPU providers where they can run, CPU always
 * last), and recording every provider that was not used with the reason, so the UI and
 * `cfstudio info` can say why work runs on the CPU.
 */
import * as ort from 'onnxruntime-node';
import {
  providersForDevice,
  providerUnavailableReason,
  requestedDevice,
  type ProviderName,
} from '../backend/ortProviders';
import { UserError } from '../util/errors';

export type { ProviderName };

export interface ProviderAttempt {
  provider: ProviderName;
  ok: boolean;
  /** why this provider was not used */
  reason?: string;
}

export interface OpenSessionOptions {
  /** providers to try in order; 'cpu' is appended when missing. Default: the device asked for (CFSTUDIO_DEVICE) */
  providers?: readonly ProviderName[];
  /** intra-op threads; default: ONNX Runtime's choice (the physical cores) */
  threads?: number;
  /** more session options (e.g. the training step's) */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /** how errors name a model given as bytes (default "the model") */
  label?: string;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: ProviderName;
  attempts: ProviderAttempt[];
}

/** The providers to try for the device asked for, then 'cpu'. */
export function defaultProviders(platform: NodeJS.Platform = process.platform): ProviderName[] {
  return providersForDevice(requestedDevice(), platform);
}

/**
 * A session on the first provider that loads the model. The caller should already know the file
 * is an ONNX model (readOnnxModelInfo): a CPU failure is reported as "ONNX Runtime could not load".
 */
export async function openOrtSession(
  model: string | Uint8Array,
  opts: OpenSessionOptions = {},
): Promise<OpenedSession> {
  const modelFile = opts.label ?? (typeof model === 'string' ? model : 'the model');
  const order = [...(opts.providers ?? defaultProviders())];
  if (!order.includes('cpu')) order.push('cpu');
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
    ...opts.sessionOptions,
  };
  const attempts: ProviderAttempt[] = [];
  for (const provider of new Set(order)) {
    const unavailable = providerUnavailableReason(provider);
    if (unavailable) {
      attempts.push({ provider, ok: false, reason: unavailable });
      continue;
    }
    try {
      const options = { ...base, executionProviders: [provider] };
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, options)
          : await ort.InferenceSession.create(model, options);
      attempts.push({ provider, ok: true });
      return { session, provider, attempts };
    } catch (e) {
      if (provider === 'cpu') throw ortLoadError(modelFile, e);
      attempts.push({ provider, ok: false, reason: firstLine(e) });
    }
  }
  // unreachable: 'cpu' is always in the list and either returns or throws
  throw new Error('openOrtSession: no provider tried');
}

/** UserError for a file that is ONNX but that ONNX Runtime refuses (unsupported opset, operator, corrupt weights). */
export function ortLoadError(modelFile: string, e: unknown): UserError {
  return new UserError(
    `ONNX Runtime could not load "${modelFile}": ${firstLine(e)}`,
    'The file may use operators or an opset this ONNX Runtime does not support, or be damaged. Re-export it ' +
      '(e.g. torch.onnx.export with opset_version=17) or download it again.',
  );
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].trim();
}
