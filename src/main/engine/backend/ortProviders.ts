/**
 * Which ONNX Runtime execution providers (devices) can run here, and which to try for a device the
 * user asked for. One setting — `auto` (default), `cpu`, `cuda`, `dml`, `coreml` or `webgpu` —
 * covers extraction, scoring and training; the front ends set it (`--device`, the app's setting)
 * through CFSTUDIO_DEVICE, which worker threads inherit.
 *
 *   auto    the vendor GPU provider of the platform (CUDA on Linux/Windows, DirectML on Windows,
 *           CoreML on macOS), then WebGPU where its graphics API is present, then the CPU
 *   other   that provider, then the CPU
 *
 * A provider is checked before it is tried (a failed attempt costs a model load and makes ONNX
 * Runtime print to stderr): the platform, whether this onnxruntime-node build offers it, whether
 * its provider library is installed (CUDA comes from NuGet at install time), and for WebGPU on
 * Linux whether a Vulkan loader exists (Dawn needs it). Every provider not used keeps its reason.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

export const DEVICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type Device = (typeof DEVICES)[number];
export type ProviderName = Exclude<Device, 'auto'>;

export function isDevice(s: string): s is Device {
  return (DEVICES as readonly string[]).includes(s);
}

/** The device asked for through CFSTUDIO_DEVICE (front ends validate it; anything else is 'auto'). */
export function requestedDevice(env: NodeJS.ProcessEnv = process.env): Device {
  const d = env.CFSTUDIO_DEVICE;
  return d && isDevice(d) ? d : 'auto';
}

/** The providers to try, in order, for `device`; 'cpu' always last. */
export function providersForDevice(
  device: Device,
  platform: NodeJS.Platform = process.platform,
): ProviderName[] {
  if (device !== 'auto') return device === 'cpu' ? ['cpu'] : [device, 'cpu'];
  if (platform === 'win32') return ['cuda', 'dml', 'webgpu', 'cpu'];
  if (platform === 'linux') return ['cuda', 'webgpu', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu', 'cpu'];
  return ['cpu'];
}

const PLATFORMS: Record<Exclude<ProviderName, 'cpu'>, { platforms: NodeJS.Platform[]; label: string }> = {
  cuda: { platforms: ['linux', 'win32'], label: 'CUDA (NVIDIA GPUs) is available on Linux and Windows only' },
  dml: { platforms: ['win32'], label: 'DirectML is Windows-only' },
  coreml: { platforms: ['darwin'], label: 'CoreML is macOS-only' },
  webgpu: { platforms: ['linux', 'win32', 'darwin'], label: 'WebGPU runs on Linux, Windows and macOS' },
};

/** provider libraries that onnxruntime-node downloads at install time instead of bundling */
const PROVIDER_LIBRARIES: Partial<Record<ProviderName, Partial<Record<NodeJS.Platform, string>>>> = {
  cuda: { linux: 'libonnxruntime_providers_cuda.so', win32: 'onnxruntime_providers_cuda.dll' },
};

/** Folders where a Linux Vulkan loader usually is (WebGPU's Dawn loads libvulkan.so.1). */
const VULKAN_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib64',
];

/** Why `provider` cannot be used here, or null when it is worth trying. */
export function providerUnavailableReason(provider: ProviderName): string | null {
  if (provider === 'cpu') return null;
  const where = `${process.platform}/${process.arch}`;
  if (!PLATFORMS[provider].platforms.includes(process.platform)) return PLATFORMS[provider].label;
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
  if (provider === 'webgpu' && process.platform === 'linux' && !hasVulkanLoader())
    return 'no Vulkan loader (libvulkan.so.1) for WebGPU (Dawn): install the GPU vendor’s Vulkan driver';
  return null;
}

function hasVulkanLoader(): boolean {
  const extra = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  return [...extra, ...VULKAN_DIRS].some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')));
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

export interface ProviderReport {
  provider: ProviderName;
  /** in this onnxruntime-node build */
  offered: boolean;
  /** shipped inside the package (else installed separately) */
  bundled: boolean;
  /** why it cannot run here, or null */
  unavailable: string | null;
}

/** What this onnxruntime-node offers, and whether each provider can run here. */
export function providerReport(): { device: Device; tryOrder: ProviderName[]; providers: ProviderReport[] } {
  const backends = ort.listSupportedBackends();
  const device = requestedDevice();
  return {
    device,
    tryOrder: providersForDevice(device),
    providers: (['cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const).map((p) => {
      const b = backends.find((x) => x.name === p);
      return { provider: p, offered: !!b, bundled: !!b?.bundled, unavailable: providerUnavailableReason(p) };
    }),
  };
}
