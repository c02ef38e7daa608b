/**
 * electron-builder's afterPack hook (electron-builder.cjs): sets the packaged app's Electron
 * fuses (https://www.electronjs.org/docs/latest/tutorial/fuses) before it is signed. Electron's
 * own switches, burnt into its binary: the app cannot be run as plain Node (ELECTRON_RUN_AS_NODE)
 * nor be handed NODE_OPTIONS or --inspect, loads its code only from app.asar and checks that
 * archive against the hash electron-builder embeds, and encrypts its cookies.
 */
import path from 'node:path';
import fuses from '@electron/fuses';

const { flipFuses, FuseV1Options, FuseVersion } = fuses;

/** The fuses, by name (tests read them). */
export const FUSES = {
  RunAsNode: false,
  EnableCookieEncryption: true,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  LoadBrowserProcessSpecificV8Snapshot: false,
  // the renderer is served on app:// (src/main/appProtocol.ts), so file:// needs no extras
  GrantFileProtocolExtraPrivileges: false,
};

/** The Electron executable (or, on macOS, the .app) electron-builder just packed. */
export function electronBinary(context) {
  const name = context.packager.appInfo.productFilename;
  switch (context.electronPlatformName) {
    case 'darwin':
    case 'mas':
      return path.join(context.appOutDir, `${name}.app`);
    case 'win32':
      return path.join(context.appOutDir, `${name}.exe`);
    default:
      return path.join(context.appOutDir, context.packager.executableName);
  }
}

/** Flips the fuses of the Electron binary at `file` (an .app on macOS). */
export async function setFuses(file, { resetAdHocDarwinSignature = false } = {}) {
  const config = { version: FuseVersion.V1, strictlyRequireAllFuses: false, resetAdHocDarwinSignature };
  for (const [name, value] of Object.entries(FUSES)) config[FuseV1Options[name]] = value;
  await flipFuses(file, config);
}

export async function afterPack(context) {
  // arm64 macOS binaries carry an ad-hoc signature that changing the binary breaks
  const arm64 = context.arch === 3; // builder-util Arch.arm64
  await setFuses(electronBinary(context), {
    resetAdHocDarwinSignature: context.electronPlatformName === 'darwin' && arm64,
  });
}

export default afterPack;
