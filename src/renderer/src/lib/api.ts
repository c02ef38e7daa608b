/**
 * The one door to the main process: the named functions the preload (Electron) or the preview
 * bridge (a browser) expose as `window.cfstudioBridge`, seen as a CfStudioApi (src/shared/bridge.ts);
 * or a `window.cfstudio` CfStudioApi where one is given. Stores call `api()`; tests install their
 * own implementation with `setApi`.
 */
import { apiFromBridge, BRIDGE_GLOBAL, type CfStudioBridge } from '../../../shared/bridge';
import type { CfStudioApi } from '../../../shared/ipc';

let override: CfStudioApi | null = null;
let adapted: { bridge: CfStudioBridge; api: CfStudioApi } | null = null;

/** The exposed bridge as a CfStudioApi (adapted once per bridge object). */
function fromBridge(): CfStudioApi | null {
  const bridge = (window as unknown as Record<string, CfStudioBridge | undefined>)[BRIDGE_GLOBAL];
  if (!bridge) return null;
  if (adapted?.bridge !== bridge) adapted = { bridge, api: apiFromBridge(bridge) };
  return adapted.api;
}

/** Replaces the bridge (component/store tests); `null` goes back to `window.cfstudio`. */
export function setApi(api: CfStudioApi | null): void {
  override = api;
}

/** The bridge, or null when the page runs outside CF Studio and its preview. */
export function maybeApi(): CfStudioApi | null {
  if (override) return override;
  return typeof window !== 'undefined' ? (window.cfstudio ?? fromBridge()) : null;
}

export const NO_BRIDGE_MESSAGE =
  'CF Studio’s desktop bridge is not available: open this page inside the CF Studio window or its browser preview.';

/** The bridge; throws a readable error when it is absent. */
export function api(): CfStudioApi {
  const bridge = maybeApi();
  if (!bridge) throw new Error(NO_BRIDGE_MESSAGE);
  return bridge;
}

/** URL of an item's thumbnail (longest side `size` px); empty when there is no bridge. */
export function thumbUrl(itemId: number, size: number): string {
  return maybeApi()?.thumbnailUrl(itemId, size) ?? '';
}
