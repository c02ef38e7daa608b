/**
 * Opens an ONNX Runtime session on a model file, choosing the execution provider: GPU providers
 * are tried where this onnxruntime-node build has them (CUDA on Linux/Windows, DirectML on
 * Windows, CoreML on macOS), CPU always comes last, and every provider that was not used is
 * recorded with the reason, so the UI and `cfstudio info` can say why extraction runs on the CPU.
 *
 * A provider that onnxruntime-node lists but does not bundle (CUDA: its provider library comes
 * from NuGet at install time) is checked on disk first, because a failed attempt costs a model
 * load and makes ONNX Runtime print errors to stderr.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { UserError } from '../util/errors';

export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml';

export interface ProviderAttempt {
  provider: ProviderName;
  ok: boolean;
  /** why this provider was not used */
  reason?: string;
}

export interface OpenSessionOptions {
  /** providers to try in order; 'cpu' is appended when missing. Default: defaultProviders() */
  providers?: readonly ProviderName[];
  /** intra-op threads; default: ONNX Runtime's choice (the physical cores) */
  threads?: number;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: ProviderName;
  attempts: ProviderAttempt[];
}

/** The GPU providers worth trying on this platform, then 'cpu'. */
export function defaultProviders(platform: NodeJS.Platform = process.platform): ProviderName[] {
  if (platform === 'win32') return ['cuda', 'dml', 'cpu'];
  if (platform === 'linux') return ['cuda', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'cpu'];
  return ['cpu'];
}

const PLATFORMS: Record<Exclude<ProviderName, 'cpu'>, { platforms: NodeJS.Platform[]; label: string }> = {
  cuda: { platforms: ['linux', 'win32'], label: 'CUDA (NVIDIA GPUs) is available on Linux and Windows only' },
  dml: { platforms: ['win32'], label: 'DirectML is Windows-only' },
  coreml: { platforms: ['darwin'], label: 'CoreML is macOS-only' },
};

/** provider libraries that onnxruntime-node downloads at install time instead of bundling */
const PROVIDER_LIBRARIES: Partial<Record<ProviderName, Partial<Record<NodeJS.Platform, string>>>> = {
  cuda: { linux: 'libonnxruntime_providers_cuda.so', win32: 'onnxruntime_providers_cuda.dll' },
};

/** Why `provider` cannot be used here, or null when it is worth trying. */
export function providerUnavailableReason(provider: ProviderName): string | null {
  if (provider === 'cpu') return null;
  const where = `${process.platform}/${process.arch}`;
  if (!PLATFORMS[provider].platforms.includes(process.platform)) return `${PLATFORMS[provider].label}`;
  const backends = ort.listSupportedBackends();
  const backend = backends.find((b) => b.name === provider);
  if (!backend) {
    return (
      `not in this onnxruntime-node build for ${where} ` +
      `(it offers: ${backends.map((b) => b.name + (b.bundled ? '' : ' (not bundled)')).join(', ')})`
    );
  }
  if (!backend.bundled) {
    const lib = PROVIDER_LIBRARIES[provider]?.[process.platform];
    const dir = bindingDir();
    if (lib && dir && !fs.existsSync(path.join(dir, lib))) {
      return (
        `its provider library ${lib} is not installed (onnxruntime-node fetches it from NuGet at install ` +
        'time, unless that step is skipped, e.g. by onnxruntime-node-install=skip in .npmrc). With internet ' +
        'access: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node; it also needs an NVIDIA driver, ' +
        'the CUDA 12 runtime and cuDNN'
      );
    }
  }
  return null;
}

/** Folder of onnxruntime-node's native binding, where provider libraries must sit; null if not found. */
function bindingDir(): string | null {
  try {
    const main = createRequire(import.meta.url).resolve('onnxruntime-node');
    return path.join(path.dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

/**
 * A session on the first provider that loads the model. The caller should already know the file
 * is an ONNX model (readOnnxModelInfo): a CPU failure is reported as "ONNX Runtime could not load".
 */
export async function openOrtSession(
  modelFile: string,
  opts: OpenSessionOptions = {},
): Promise<OpenedSession> {
  const order = [...(opts.providers ?? defaultProviders())];
  if (!order.includes('cpu')) order.push('cpu');
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
  };
  const attempts: ProviderAttempt[] = [];
  for (const provider of new Set(order)) {
    const unavailable = providerUnavailableReason(provider);
    if (unavailable) {
      attempts.push({ provider, ok: false, reason: unavailable });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(modelFile, {
        ...base,
        executionProviders: [provider],
      });
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
