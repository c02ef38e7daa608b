/**
 * Electron main process: app lifecycle and the one window.
 * Security (CSP, no remote content, no navigation/new windows, permissions, IPC sender checks)
 * lives in ./security.ts; the IPC surface in ./ipc; the IPC contract in src/shared/ipc.ts.
 */
import { join } from 'node:path';
import { app, BrowserWindow, session } from 'electron';
import { contentSecurityPolicy } from '../shared/csp';
import { registerIpcHandlers, registerThumbScheme } from './ipc';
import { defaultWorkspacePath } from './engine/studio';
import {
  guardWebContents,
  hardenSession,
  isLoopbackHttpUrl,
  isTrustedSender,
  type RendererSource,
} from './security';

// out/main/index.js → out/preload/index.cjs, out/renderer/index.html
const PRELOAD = join(import.meta.dirname, '../preload/index.cjs');
const RENDERER_HTML = join(import.meta.dirname, '../renderer/index.html');

/** `electron-vite dev` sets ELECTRON_RENDERER_URL; it is honoured only unpackaged and on loopback. */
function rendererSource(): RendererSource {
  const devUrl = process.env['ELECTRON_RENDERER_URL'];
  if (!app.isPackaged && devUrl && isLoopbackHttpUrl(devUrl)) return { kind: 'dev', url: devUrl };
  return { kind: 'file', file: RENDERER_HTML };
}

const source = rendererSource();
let mainWindow: BrowserWindow | null = null;

function createWindow(): BrowserWindow {
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
  if (source.kind === 'dev') void win.loadURL(source.url);
  else void win.loadFile(source.file);
  return win;
}

// Every renderer is sandboxed, whatever its webPreferences say. Must run before 'ready'.
app.enableSandbox();
registerThumbScheme();

/** The workspace: CFSTUDIO_WORKSPACE, else the one in the user's data folder (the same file every start). */
const workspaceFile = process.env['CFSTUDIO_WORKSPACE'] || defaultWorkspacePath();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
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
    hardenSession(session.defaultSession, source, contentSecurityPolicy({ dev: source.kind === 'dev' }));
    registerIpcHandlers({
      isTrustedSender: (event) => isTrustedSender(source, event),
      workspaceFile,
      window: () => mainWindow,
    });
    mainWindow = createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
    });
  });
}
