/**
 * electron-builder configuration: `npm run package` builds the app (electron-vite) and packs it
 * for the platform it runs on — AppImage and .deb on Linux, an NSIS installer on Windows, a .dmg
 * on macOS — into dist/. Packing needs Electron's binary (a download, like `npm start`'s window),
 * so it is not part of `npm test`; test/integration/packaging.test.ts checks that this file
 * passes electron-builder's own schema, that every file it names exists after `npm run build`,
 * which files each platform keeps, and the fuses the afterPack hook sets.
 *
 * - Only the build output (out/: main with its workers and the compiled CLI, preload, renderer),
 *   the extractor catalog and package.json go into app.asar; production dependencies are added by
 *   electron-builder, native ones rebuilt for Electron.
 * - Native modules (better-sqlite3, onnxruntime-node, sharp and its libvips) are unpacked next to
 *   the ASAR: a .node file or shared library cannot be loaded from inside it.
 * - ONNX Runtime ships binaries for every platform and CPU (~300 MB): each package keeps its own.
 * - scripts/after-pack.mjs sets the Electron fuses (RunAsNode off, cookie encryption on, ASAR
 *   integrity validation on, app only from the ASAR, …).
 * - The packaged app runs the command line as `<app> --cli ARGS` (src/main/index.ts).
 */

/** Every platform's folder of onnxruntime-node/bin/napi-v*; electron-builder's os names map to them. */
const ORT_PLATFORMS = ['darwin', 'linux', 'win32'];

/** Exclusions that keep only `platform`'s ONNX Runtime, for the architecture being packed. */
function onnxRuntimeFor(platform) {
  return [
    ...ORT_PLATFORMS.filter((p) => p !== platform).map(
      (p) => `!node_modules/onnxruntime-node/bin/napi-v*/${p}{,/**/*}`,
    ),
    // \${arch}: electron-builder's macro (x64, arm64), the CPU being packed; the other CPUs' go
    `!node_modules/onnxruntime-node/bin/napi-v*/${platform}/!(\${arch}){,/**/*}`,
  ];
}

/** @type {import('app-builder-lib').Configuration} */
module.exports = {
  appId: 'org.cfstudio.desktop',
  productName: 'CF Studio',
  copyright: 'CF Studio authors',
  directories: { output: 'dist', buildResources: 'resources' },
  files: [
    'out/main/**/*',
    'out/preload/**/*',
    'out/renderer/**/*',
    'resources/extractors.json',
    'package.json',
    '!out/native{,/**/*}',
    '!**/*.map',
  ],
  asar: true,
  asarUnpack: [
    '**/node_modules/better-sqlite3/**/*',
    '**/node_modules/onnxruntime-node/**/*',
    '**/node_modules/sharp/**/*',
    '**/node_modules/@img/**/*',
  ],
  // rebuild native dependencies (better-sqlite3) for Electron's ABI while packing
  npmRebuild: true,
  afterPack: './scripts/after-pack.mjs',
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science',
    icon: 'resources/icon.png',
    executableName: 'cf-studio',
    files: onnxRuntimeFor('linux'),
  },
  deb: { depends: ['libnss3', 'libgtk-3-0', 'libxss1', 'libasound2'] },
  win: {
    target: ['nsis'],
    icon: 'resources/icon.ico',
    files: onnxRuntimeFor('win32'),
  },
  nsis: { oneClick: false, allowToChangeInstallationDirectory: true },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.developer-tools',
    icon: 'resources/icon.icns',
    hardenedRuntime: true,
    files: onnxRuntimeFor('darwin'),
  },
  dmg: { title: 'CF Studio' },
};
