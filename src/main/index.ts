/**
 * Electron main process: app lifecycle and the one window.
 * Security (CSP, no remote content, no navigation/new windows, permissions, IPC sender checks)
 * lives in ./security.ts; the renderer is served on app:// (./appProtocol.ts); the IPC surface
 * in ./ipc; the IPC contract in src/shared/ipc.ts.
 *
 * `<app> --cli ARGS…` runs the `cfstudio` command line in this process instead, without a
 * window: a packaged app has no Node of its own (the RunAsNode fuse is off) and its native
 * modules are built for Electron, so this is how its CLI runs (compiled, from the ASAR).
 */
import { join } from 'node:path';
import { app, BrowserWindow, protocol, session } from 'electron';
import { contentSecurityPolicy } from '../shared/csp';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, appProtocolHandler } from './appProtocol';
import { registerIpcHandlers, THUMB_SCHEME_PRIVILEGES } from './ipc';
import { defaultWorkspacePath } from './engine/studio';
import {
  guardWebContents,
  hardenSession,
  isLoopbackHttpUrl,
  isTrustedSender,
  rendererUrl,
  type RendererSource,
} from './security';

// out/main/index.js → out/preload/index.cjs, out/renderer/
const PRELOAD = join(import.meta.dirname, '../preload/index.cjs');
const RENDERER_DIR = join(import.meta.dirname, '../renderer');

/** `electron-vite dev` sets ELECTRON_RENDERER_URL; it is honoured only unpackaged and on loopback. */
function rendererSource(): RendererSource {
  const devUrl = process.env['ELECTRON_RENDERER_URL'];
  if (!app.isPackaged && devUrl && isLoopbackHttpUrl(devUrl)) return { kind: 'dev', url: devUrl };
  return { kind: 'app', root: RENDERER_DIR };
}

let mainWindow: BrowserWindow | null = null;

function createWindow(source: RendererSource): BrowserWindow {
  const win = new BrowserWindow({
    title: 'CF Studio',
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    show: false,
    autoHideMenuBar: false,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(rendererUrl(source));
  return win;
}

/** The desktop app: one window on one workspace. */
function startApp(): void {
  const source = rendererSource();
  const csp = contentSecurityPolicy({ dev: source.kind === 'dev' });
  // Every renderer is sandboxed, whatever its webPreferences say. Must run before 'ready'.
  app.enableSandbox();
  // Both schemes in one call, before 'ready' (Electron allows one registration).
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES, THUMB_SCHEME_PRIVILEGES]);

  /** The workspace: CFSTUDIO_WORKSPACE, else the one in the user's data folder (the same file every start). */
  const workspaceFile = process.env['CFSTUDIO_WORKSPACE'] || defaultWorkspacePath();

  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  // Navigation / window.open / <webview> guards for every WebContents, including ones we did not create.
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, source));

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  void app.whenReady().then(() => {
    hardenSession(session.defaultSession, source, csp);
    if (source.kind === 'app') protocol.handle(APP_SCHEME, appProtocolHandler(source.root, csp));
    registerIpcHandlers({
      isTrustedSender: (event) => isTrustedSender(source, event),
      workspaceFile,
      window: () => mainWindow,
    });
    mainWindow = createWindow(source);
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow(source);
    });
  });
}

/** `--cli ARGS…`: the command line, then exit with its code. */
function runCli(args: string[]): void {
  void import('./cli')
    .then(({ main }) => main(['cfstudio', 'cfstudio', ...args]))
    .then(
      (code) => app.exit(code),
      (e: unknown) => {
        console.error(e);
        app.exit(1);
      },
    );
}

const cliAt = process.argv.indexOf('--cli');
if (cliAt >= 0) runCli(process.argv.slice(cliAt + 1));
else startApp();
