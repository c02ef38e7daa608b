/**
 * The renderer's Content-Security-Policy, defined once.
 *
 * Used by src/main (the header of the app:// page, src/main/appProtocol.ts, and of every
 * response via session.webRequest.onHeadersReceived, which covers the dev server), by the browser
 * preview, and by electron.vite.config.ts (the <meta> tag in src/renderer/index.html, a second
 * line of defence that travels with the file). 'self' is the page's origin: app://cfstudio in
 * the desktop app (never file://, which would make the whole disk same-origin). Pure function,
 * no imports: the renderer layer may import src/shared.
 */

export interface CspOptions {
  /**
   * Vite dev server (electron-vite dev): allows the HMR websocket on localhost and inline <style>
   * (Vite injects CSS as <style> tags in dev). Never set for a production build.
   */
  dev?: boolean;
  /**
   * For a <meta http-equiv> tag: drops directives that browsers ignore in meta
   * (frame-ancestors, report-uri, sandbox).
   */
  meta?: boolean;
}

export function contentSecurityPolicy(options: CspOptions = {}): string {
  const { dev = false, meta = false } = options;
  const directives: Array<[string, string[]]> = [
    ['default-src', ["'none'"]],
    ['script-src', ["'self'"]],
    ['style-src', dev ? ["'self'", "'unsafe-inline'"] : ["'self'"]],
    // cfthumb: thumbnails served by the main process (src/main/ipc), only of registered datasets
    ['img-src', ["'self'", 'data:', 'blob:', 'cfthumb:']],
    ['font-src', ["'self'"]],
    ['connect-src', dev ? ["'self'", 'ws://localhost:*', 'ws://127.0.0.1:*'] : ["'self'"]],
    ['worker-src', ["'self'"]],
    ['object-src', ["'none'"]],
    ['frame-src', ["'none'"]],
    ['base-uri', ["'none'"]],
    ['form-action', ["'none'"]],
  ];
  if (!meta) directives.push(['frame-ancestors', ["'none'"]]);
  return directives.map(([name, sources]) => `${name} ${sources.join(' ')}`).join('; ');
}
