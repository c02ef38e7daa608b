/**
 * The installable app, checked without Electron's binary (which cannot be downloaded here):
 * - electron-builder.cjs passes electron-builder's own schema and names AppImage/deb, NSIS and dmg
 *   targets, the native modules unpacked from the ASAR, the icons and the extractor catalog;
 * - electron-builder's own file matcher keeps each platform's ONNX Runtime binaries and prunes the
 *   other platforms' and CPUs';
 * - the afterPack hook burns the fuses (RunAsNode off, cookie encryption on, ASAR integrity on,
 *   app only from the ASAR, …) into an Electron-like binary, read back with @electron/fuses;
 * - after `npm run build`: every file the config names exists, every worker the code starts has
 *   its compiled entry, the bundles parse, the preload is one self-contained file exposing named
 *   functions, and the compiled CLI trains and scores through its compiled workers with tsx
 *   (and any .ts) refused at run time.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { bridgeName, INVOKE_CHANNELS } from '../../src/shared/bridge';
import { repoRoot } from '../helpers/cli';

const require = createRequire(import.meta.url);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-packaging-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface PlatformOptions {
  target: string[];
  icon: string;
  files: string[];
}
interface BuilderConfig {
  appId: string;
  productName: string;
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  afterPack: string;
  linux: PlatformOptions;
  win: PlatformOptions;
  mac: PlatformOptions;
}

const configFile = path.join(repoRoot, 'electron-builder.cjs');
// a copy: electron-builder normalizes the object it loads (the same module object) in place
const config = structuredClone(require(configFile)) as BuilderConfig;
const built = fs.existsSync(path.join(repoRoot, 'out', 'main', 'index.js'));

describe('electron-builder.cjs', () => {
  it('is what electron-builder loads, and passes its schema', async () => {
    const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      getConfig(dir: string, file: string | null, fromOptions: null): Promise<BuilderConfig>;
      validateConfiguration(c: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (on: boolean) => unknown };
    const loaded = await getConfig(repoRoot, configFile, null);
    expect(loaded.appId).toBe('org.cfstudio.desktop');
    // (the validator normalizes what it is given: copies, so that the module's object stays as written)
    await expect(
      validateConfiguration(structuredClone(loaded), new DebugLogger(false)),
    ).resolves.toBeUndefined();
    // the validator does refuse a bad configuration (so the line above means something)
    await expect(
      validateConfiguration({ ...structuredClone(loaded), fuses: true }, new DebugLogger(false)),
    ).rejects.toThrow(/configuration/i);
  });

  it('targets AppImage + deb, NSIS and dmg; unpacks the native modules; ships the catalog and icons', async () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.asar).toBe(true);
    for (const native of ['better-sqlite3', 'onnxruntime-node', 'sharp', '@img'])
      expect(config.asarUnpack).toContain(`**/node_modules/${native}/**/*`);
    expect(config.files).toContain('resources/extractors.json');
    const png = await sharp(path.join(repoRoot, config.linux.icon)).metadata();
    expect([png.format, png.width, png.height]).toEqual(['png', 512, 512]);
    const icns = fs.readFileSync(path.join(repoRoot, config.mac.icon));
    expect(icns.subarray(0, 4).toString('ascii')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const ico = fs.readFileSync(path.join(repoRoot, config.win.icon));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2), ico.readUInt16LE(4)]).toEqual([0, 1, 4]);
    for (const icon of [config.linux.icon, config.mac.icon, config.win.icon])
      expect(fs.statSync(path.join(repoRoot, icon)).size, icon).toBeLessThan(64 * 1024);
    expect(fs.existsSync(path.join(repoRoot, config.afterPack))).toBe(true);
  });

  it('each platform keeps its own ONNX Runtime binaries for the CPU being packed (electron-builder’s matcher)', () => {
    const { getNodeModuleFileMatcher } = require('app-builder-lib/out/fileMatcher') as {
      getNodeModuleFileMatcher(
        appDir: string,
        dest: string,
        expand: (p: string) => string,
        platformOptions: PlatformOptions,
        packager: unknown,
      ): { createFilter(): (file: string, stat: fs.Stats) => boolean };
    };
    const { expandMacro } = require('app-builder-lib/out/util/macroExpander') as {
      expandMacro(p: string, arch: string | null, appInfo: unknown, extra: Record<string, string>): string;
    };
    const ortBin = path.join(repoRoot, 'node_modules', 'onnxruntime-node', 'bin');
    const binaries = (fs.readdirSync(ortBin, { recursive: true }) as string[])
      .map((f) => path.join(ortBin, f))
      .filter((f) => fs.statSync(f).isFile());
    expect(binaries.length).toBeGreaterThan(6);
    const cases = [
      ['linux', 'linux', 'x64'],
      ['linux', 'linux', 'arm64'],
      ['win', 'win32', 'x64'],
      ['mac', 'darwin', 'arm64'],
    ] as const;
    for (const [key, ortPlatform, arch] of cases) {
      const matcher = getNodeModuleFileMatcher(
        repoRoot,
        path.join(dir, 'app'),
        (p) => expandMacro(p, arch, {}, { os: key, '/*': '{,/**/*}' }),
        config[key],
        { config, debugLogger: { isEnabled: false } },
      );
      const keep = matcher.createFilter();
      const kept = binaries.filter((f) => keep(f, fs.statSync(f))).map((f) => path.relative(ortBin, f));
      expect(kept.length, `${key} ${arch}`).toBeGreaterThan(0);
      for (const f of kept)
        expect(f, `${key} ${arch}`).toMatch(new RegExp(`^napi-v\\d+/${ortPlatform}/${arch}/`));
      // everything of that platform and CPU stays
      const own = binaries.filter((f) =>
        f.includes(`${path.sep}${ortPlatform}${path.sep}${arch}${path.sep}`),
      );
      expect(kept.length).toBe(own.length);
      // the rest of the package stays too
      const js = path.join(repoRoot, 'node_modules', 'onnxruntime-node', 'dist', 'index.js');
      expect(keep(js, fs.statSync(js))).toBe(true);
    }
  });
});

describe('the afterPack hook’s fuses', () => {
  /** A stand-in for an Electron binary: padding, Electron's fuse sentinel, wire v1 with Electron's defaults. */
  function fakeElectron(file: string): void {
    const defaults = '10110001'; // RunAsNode on, cookies off, NODE_OPTIONS on, inspect on, integrity off, asar-only off, …
    fs.writeFileSync(
      file,
      Buffer.concat([
        Buffer.alloc(4096, 7),
        Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX', 'ascii'),
        Buffer.from([1, defaults.length]),
        Buffer.from(defaults, 'ascii'),
        Buffer.alloc(1024, 7),
      ]),
    );
  }

  it('turns RunAsNode, NODE_OPTIONS and --inspect off, cookie encryption, ASAR integrity and ASAR-only on', async () => {
    const hook = (await import(pathToFileURL(path.join(repoRoot, config.afterPack)).href)) as {
      default: (context: unknown) => Promise<void>;
      FUSES: Record<string, boolean>;
    };
    const { getCurrentFuseWire, FuseV1Options } = require('@electron/fuses') as {
      getCurrentFuseWire(file: string): Promise<Record<string, number>>;
      FuseV1Options: Record<string, number>;
    };
    expect(hook.FUSES).toMatchObject({
      RunAsNode: false,
      EnableCookieEncryption: true,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableNodeCliInspectArguments: false,
      EnableEmbeddedAsarIntegrityValidation: true,
      OnlyLoadAppFromAsar: true,
    });
    // what electron-builder hands the hook on Linux (x64)
    const appOutDir = path.join(dir, 'linux-unpacked');
    fs.mkdirSync(appOutDir);
    fakeElectron(path.join(appOutDir, 'cf-studio'));
    await hook.default({
      appOutDir,
      electronPlatformName: 'linux',
      arch: 1,
      packager: { appInfo: { productFilename: 'CF Studio' }, executableName: 'cf-studio' },
    });
    const wire = await getCurrentFuseWire(path.join(appOutDir, 'cf-studio'));
    const ON = 49;
    const OFF = 48;
    for (const [name, on] of Object.entries(hook.FUSES))
      expect(wire[FuseV1Options[name]], name).toBe(on ? ON : OFF);
  });
});

describe.skipIf(!built)(
  built ? 'after `npm run build`' : 'SKIPPED: the build checks need `npm run build` first',
  () => {
    const outMain = path.join(repoRoot, 'out', 'main');

    it('every file and folder the config and package.json name exists', () => {
      for (const pattern of config.files.filter((p) => !p.startsWith('!'))) {
        const base = pattern.replace(/\/\*\*\/\*$/, '');
        const full = path.join(repoRoot, base);
        expect(fs.existsSync(full), pattern).toBe(true);
        if (base !== pattern) expect(fs.readdirSync(full).length, pattern).toBeGreaterThan(0);
      }
      const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
        main: string;
      };
      for (const f of [
        pkg.main,
        'out/main/cli.js',
        'out/preload/index.cjs',
        'out/preload/previewBridge.cjs',
        'out/renderer/index.html',
      ])
        expect(fs.existsSync(path.join(repoRoot, f)), f).toBe(true);
    });

    it('every worker the engine starts has its compiled entry; the bundles parse and import no tsx', () => {
      // worker entry names as the code passes them (runWorkerJob('trainWorker', …), RpcWorker(…, 'runViewsWorker', …))
      const engine = path.join(repoRoot, 'src', 'main', 'engine');
      const names = new Set<string>();
      for (const f of fs.readdirSync(engine, { recursive: true }) as string[])
        if (f.endsWith('.ts'))
          for (const m of fs
            .readFileSync(path.join(engine, f), 'utf8')
            .matchAll(/['"]([a-zA-Z]+Worker)['"]/g))
            if (fs.existsSync(path.join(engine, path.dirname(f), `${m[1]}.ts`))) names.add(m[1]);
      expect([...names]).toEqual(expect.arrayContaining(['trainWorker', 'extractWorker']));
      for (const n of names)
        expect(fs.existsSync(path.join(outMain, `${n}.js`)), `out/main/${n}.js`).toBe(true);
      for (const f of fs.readdirSync(outMain).filter((x) => x.endsWith('.js'))) {
        const check = spawnSync(process.execPath, ['--check', path.join(outMain, f)], { encoding: 'utf8' });
        expect(check.status, `${f}: ${check.stderr}`).toBe(0);
        expect(fs.readFileSync(path.join(outMain, f), 'utf8'), f).not.toMatch(/from ["']tsx|import\(["']tsx/);
      }
    });

    it('the preload is one self-contained file that exposes named functions only', () => {
      const exposed: Record<string, unknown> = {};
      const fakeElectron = {
        contextBridge: { exposeInMainWorld: (k: string, v: unknown) => (exposed[k] = v) },
        ipcRenderer: { invoke: async () => null, on() {}, off() {}, send() {} },
        webUtils: { getPathForFile: () => '' },
      };
      const requireOnlyElectron = (id: string) => {
        if (id === 'electron') return fakeElectron;
        throw new Error(`a sandboxed preload cannot require "${id}"`);
      };
      const code = fs.readFileSync(path.join(repoRoot, 'out', 'preload', 'index.cjs'), 'utf8');
      const module = { exports: {} };
      vm.runInNewContext(code, { require: requireOnlyElectron, module, exports: module.exports });
      expect(Object.keys(exposed)).toEqual(['cfstudioBridge']);
      expect(Object.keys(exposed.cfstudioBridge as object).sort()).toEqual(
        [...INVOKE_CHANNELS.map(bridgeName), 'onJobEvent', 'thumbnailUrl', 'pathForDroppedFile'].sort(),
      );
      // the preview's bridge is a classic script: nothing to require at all
      expect(fs.readFileSync(path.join(repoRoot, 'out', 'preload', 'previewBridge.cjs'), 'utf8')).not.toMatch(
        /\brequire\(/,
      );
    });

    it('the compiled CLI trains and scores through its compiled workers, with tsx and .ts refused', () => {
      // a loader hook that fails any tsx or TypeScript module; workers inherit it (execArgv)
      const hooks = path.join(dir, 'no-tsx-hooks.mjs');
      fs.writeFileSync(
        hooks,
        `export async function resolve(specifier, context, next) {
         if (/(^|[\\\\/])tsx([\\\\/]|$)|\\.[cm]?ts$/.test(specifier)) throw new Error('TypeScript at run time: ' + specifier);
         return next(specifier, context);
       }`,
      );
      const register = path.join(dir, 'register.mjs');
      fs.writeFileSync(
        register,
        `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
      );
      const rows = ['a,b,c'];
      for (let i = 0; i < 80; i++) rows.push(`${Math.sin(i)},${Math.cos(i * 0.7)},${(i % 7) / 7}`);
      fs.writeFileSync(path.join(dir, 'table.csv'), rows.join('\n'));
      const run = (...args: string[]) =>
        spawnSync(process.execPath, ['--import', pathToFileURL(register).href, 'bin/cfstudio.mjs', ...args], {
          cwd: repoRoot,
          encoding: 'utf8',
          env: { ...process.env, CFSTUDIO_COMPILED: '1', CFSTUDIO_WORKSPACE: path.join(dir, 'ws.cfstudio') },
          timeout: 180_000,
        });
      // the hook bites: the source CLI (through tsx) cannot start under it
      const source = spawnSync(
        process.execPath,
        ['--import', pathToFileURL(register).href, 'bin/cfstudio.mjs', '--help'],
        {
          cwd: repoRoot,
          encoding: 'utf8',
          env: { ...process.env, CFSTUDIO_COMPILED: '0' },
        },
      );
      expect(source.status).not.toBe(0);
      expect(source.stderr).toMatch(/TypeScript at run time/);
      const model = path.join(dir, 'm.cfdet');
      const train = run(
        ...['train', '--inliers', path.join(dir, 'table.csv'), '--contrast', 'permutation', '--method', 'cf'],
        ...['--steps', '30', '--hidden', '8', '--blocks', '1', '--out', model],
      );
      expect(train.status, train.stderr).toBe(0);
      expect(train.stdout).toMatch(/saved CF .*detector/);
      const score = run(
        'score',
        '--model',
        model,
        '--input',
        path.join(dir, 'table.csv'),
        '--out',
        path.join(dir, 's.csv'),
      );
      expect(score.status, score.stderr).toBe(0);
      expect(fs.readFileSync(path.join(dir, 's.csv'), 'utf8').trim().split('\n')).toHaveLength(81);
    }, 240_000);
  },
);
