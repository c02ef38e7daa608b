/**
 * A small stand-in for the Electron APIs the shell uses (src/main/index.ts, src/main/ipc/index.ts,
 * src/preload/index.ts), for test/integration/electron-shell.test.ts, where the Electron binary
 * cannot run: `vi.mock('electron', …)` hands the shell `electronModule`, and the test drives and
 * inspects it through `fake`.
 *
 * It keeps Electron's behaviour where the shell relies on it: IPC arguments and results are
 * structured clones; a handler's error reaches the renderer as "Error invoking remote method …";
 * an unhandled channel is an error; `registerSchemesAsPrivileged` works only once and only
 * before 'ready', `protocol.handle` only after; `webUtils.getPathForFile` gives a path only for a
 * File the user really dropped ('' for one made in JavaScript); main and preload talk through
 * one window's WebContents, whose main frame is the sender of every call unless a test says
 * otherwise.
 */
import path from 'node:path';

type Fn = (...args: never[]) => unknown;

class Emitter {
  readonly listeners = new Map<string, Fn[]>();
  on(name: string, fn: Fn): this {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn]);
    return this;
  }
  once(name: string, fn: Fn): this {
    return this.on(name, fn);
  }
  emit(name: string, ...args: unknown[]): void {
    for (const fn of this.listeners.get(name) ?? []) (fn as (...a: unknown[]) => unknown)(...args);
  }
}

export interface FakeFrame {
  url: string;
}

export class FakeWebContents extends Emitter {
  readonly mainFrame: FakeFrame = { url: '' };
  openHandler: ((d: { url: string }) => { action: string }) | null = null;
  sent: { channel: string; args: unknown[] }[] = [];
  setWindowOpenHandler(fn: (d: { url: string }) => { action: string }): void {
    this.openHandler = fn;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
    for (const l of fake.rendererListeners.get(channel) ?? []) l({}, ...structuredClone(args));
  }
}

class FakeBrowserWindow extends Emitter {
  static readonly all: FakeBrowserWindow[] = [];
  static getAllWindows(): FakeBrowserWindow[] {
    return FakeBrowserWindow.all;
  }
  readonly webContents = new FakeWebContents();
  readonly loaded: string[] = [];
  constructor(readonly options: Record<string, unknown>) {
    super();
    FakeBrowserWindow.all.push(this);
  }
  loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    this.webContents.mainFrame.url = url;
    return Promise.resolve();
  }
  loadFile(file: string): Promise<void> {
    return this.loadURL(`file://${file}`);
  }
  isDestroyed(): boolean {
    return false;
  }
  isMinimized(): boolean {
    return false;
  }
  restore(): void {}
  focus(): void {}
  show(): void {}
}

type Handler = (event: unknown, ...args: unknown[]) => unknown;
type Listener = (event: unknown, ...args: unknown[]) => void;
interface PrivilegedScheme {
  scheme: string;
  privileges: Record<string, boolean>;
}

function createFake() {
  let ready = false;
  let resolveReady: () => void = () => {};
  const readyPromise = new Promise<void>((r) => (resolveReady = r));
  /** what the shell called, in order */
  const log: string[] = [];

  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    enableSandbox: () => void log.push('app.enableSandbox'),
    requestSingleInstanceLock: () => true,
    quit: () => void log.push('app.quit'),
    exit: (code: number) => void log.push(`app.exit ${code}`),
    whenReady: () => readyPromise,
  });

  const protocol = {
    privileged: [] as PrivilegedScheme[],
    handlers: new Map<string, (request: Request) => Promise<Response>>(),
    registerSchemesAsPrivileged(schemes: PrivilegedScheme[]) {
      if (ready) throw new Error('registerSchemesAsPrivileged after ready');
      if (protocol.privileged.length) throw new Error('registerSchemesAsPrivileged called twice');
      log.push(`protocol.registerSchemesAsPrivileged ${schemes.map((s) => s.scheme).join(',')}`);
      protocol.privileged.push(...schemes);
    },
    handle(scheme: string, fn: (request: Request) => Promise<Response>) {
      if (!ready) throw new Error('protocol.handle before ready');
      if (protocol.handlers.has(scheme)) throw new Error(`${scheme} handled twice`);
      protocol.handlers.set(scheme, fn);
    },
  };

  type BeforeRequest = (d: { url: string }, cb: (r: { cancel: boolean }) => void) => void;
  type HeadersReceived = (
    d: { responseHeaders?: Record<string, string[]> },
    cb: (r: { responseHeaders: Record<string, string[]> }) => void,
  ) => void;
  type PermissionRequest = (wc: unknown, permission: string, cb: (ok: boolean) => void) => void;
  type PermissionCheck = (...a: unknown[]) => boolean;
  const installed = {
    beforeRequest: null as BeforeRequest | null,
    headersReceived: null as HeadersReceived | null,
    permissionRequest: null as PermissionRequest | null,
    permissionCheck: null as PermissionCheck | null,
  };
  const defaultSession = Object.assign(installed, {
    webRequest: {
      onBeforeRequest: (fn: BeforeRequest) => void (installed.beforeRequest = fn),
      onHeadersReceived: (fn: HeadersReceived) => void (installed.headersReceived = fn),
    },
    setPermissionRequestHandler: (fn: PermissionRequest) => void (installed.permissionRequest = fn),
    setPermissionCheckHandler: (fn: PermissionCheck) => void (installed.permissionCheck = fn),
  });

  const ipcMain = {
    handlers: new Map<string, Handler>(),
    listeners: new Map<string, Listener[]>(),
    handle(channel: string, fn: Handler) {
      if (ipcMain.handlers.has(channel))
        throw new Error(`Attempted to register a second handler for '${channel}'`);
      ipcMain.handlers.set(channel, fn);
    },
    on(channel: string, fn: Listener) {
      ipcMain.listeners.set(channel, [...(ipcMain.listeners.get(channel) ?? []), fn]);
    },
  };

  const dialog = {
    answers: [] as (string | null)[],
    async showOpenDialog(...args: unknown[]) {
      const opts = args[args.length - 1] as { properties?: string[] };
      log.push(`dialog.showOpenDialog ${opts.properties?.join(',')}`);
      const p = dialog.answers.shift() ?? null;
      return p ? { canceled: false, filePaths: [p] } : { canceled: true, filePaths: [] };
    },
    async showSaveDialog() {
      log.push('dialog.showSaveDialog');
      const p = dialog.answers.shift() ?? null;
      return p ? { canceled: false, filePath: p } : { canceled: true, filePath: undefined };
    },
  };

  /** The window whose page runs the preload (the first one created). */
  const window = () => {
    const w = FakeBrowserWindow.all[0];
    if (!w) throw new Error('fake electron: no window yet');
    return w;
  };

  const state = {
    /** the frame IPC calls come from; null = the window's main frame (the app page) */
    senderFrame: null as FakeFrame | null,
  };
  const ipcEvent = () => {
    const sender = window().webContents;
    return { sender, senderFrame: state.senderFrame ?? sender.mainFrame };
  };

  const rendererListeners = new Map<string, Set<Listener>>();
  const ipcRenderer = {
    invoked: [] as string[],
    async invoke(channel: string, ...args: unknown[]) {
      ipcRenderer.invoked.push(channel);
      const h = ipcMain.handlers.get(channel);
      if (!h)
        throw new Error(
          `Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`,
        );
      try {
        return structuredClone(await h(ipcEvent(), ...structuredClone(args)));
      } catch (e) {
        throw new Error(`Error invoking remote method '${channel}': ${String(e)}`);
      }
    },
    send(channel: string, ...args: unknown[]) {
      for (const l of ipcMain.listeners.get(channel) ?? []) l(ipcEvent(), ...structuredClone(args));
    },
    on(channel: string, fn: Listener) {
      if (!rendererListeners.has(channel)) rendererListeners.set(channel, new Set());
      rendererListeners.get(channel)!.add(fn);
      return ipcRenderer;
    },
    off(channel: string, fn: Listener) {
      rendererListeners.get(channel)?.delete(fn);
      return ipcRenderer;
    },
  };

  const exposed: Record<string, unknown> = {};
  const contextBridge = {
    exposeInMainWorld(name: string, api: unknown) {
      if (Object.hasOwn(exposed, name)) throw new Error(`${name} is already exposed`);
      exposed[name] = api;
    },
  };

  const dropped = new WeakMap<object, string>();
  const webUtils = {
    getPathForFile: (file: File) => dropped.get(file) ?? '',
  };

  return {
    log,
    state,
    app,
    protocol,
    session: { defaultSession },
    ipcMain,
    ipcRenderer,
    rendererListeners,
    dialog,
    contextBridge,
    webUtils,
    exposed,
    BrowserWindow: FakeBrowserWindow,
    window,
    /** app 'ready' */
    makeReady() {
      ready = true;
      log.push('app ready');
      resolveReady();
    },
    /** A File as the user drops it from the file manager: it has a path. */
    dropFile(p: string): File {
      const f = new File([], path.basename(p));
      dropped.set(f, p);
      return f;
    },
  };
}

export const fake = createFake();

/** What `import … from 'electron'` gives the shell under test. */
export const electronModule = {
  app: fake.app,
  protocol: fake.protocol,
  session: fake.session,
  ipcMain: fake.ipcMain,
  ipcRenderer: fake.ipcRenderer,
  dialog: fake.dialog,
  contextBridge: fake.contextBridge,
  webUtils: fake.webUtils,
  BrowserWindow: fake.BrowserWindow,
  default: {},
};
