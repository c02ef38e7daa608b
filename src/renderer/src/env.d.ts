/// <reference types="vite/client" />

// Script file on purpose (no top-level import/export): declarations below are global.

interface Window {
  /**
   * The desktop bridge exposed by src/preload (or the preview bridge). Absent when the page is
   * opened elsewhere: the app then says to open it inside CF Studio or the preview (lib/api.ts).
   */
  readonly cfstudio?: import('../../shared/ipc').CfStudioApi;
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
