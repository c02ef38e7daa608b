/// <reference types="vite/client" />

// Script file on purpose (no top-level import/export): declarations below are global.

interface Window {
  /**
   * The desktop bridge exposed by src/preload. Absent when the page is opened outside the
   * CF Studio window (plain browser, UI tests against the dev server).
   */
  readonly cfstudio?: import('../../shared/ipc').CfStudioApi;
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
