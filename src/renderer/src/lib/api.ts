/**
 * The one door to the main process: `window.cfstudio` (preload in Electron, the preview bridge in a
 * browser). Stores call `api()`; tests install their own implementation with `setApi`.
 */
import type { CfStudioApi } from '../../../shared/ipc';

let override: CfStudioApi | null = null;

/** Replaces the bridge (component/store tests); `null` goes back to `window.cfstudio`. */
export function setApi(api: CfStudioApi | null): void {
  override = api;
}

/** The bridge, or null when the page runs outside CF Studio and its preview. */
export function maybeApi(): CfStudioApi | null {
  if (override) return override;
  return typeof window !== 'undefined' ? (window.cfstudio ?? null) : null;
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
