/**
 * Opening the workspace a front end works in: a file it names, else $CFSTUDIO_WORKSPACE, else
 * `workspace.cfstudio` in the user data folder (store/db.ts). One per process; close it at exit.
 */
import { defaultWorkspacePath, Workspace } from '../store';

export type { Workspace };

export function openWorkspace(file?: string): Workspace {
  return Workspace.open(file ?? defaultWorkspacePath());
}

export { defaultWorkspacePath };
