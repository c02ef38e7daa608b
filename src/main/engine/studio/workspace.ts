/**
 * Opening the workspace a front end works in: a file it names, else $CFSTUDIO_WORKSPACE, else
 * `workspace.cfstudio` in the user data folder (store/db.ts). One per process; close it at exit.
 *
 * Opening also settles runs that a dead process left 'queued' or 'running' (kill -9, a crash,
 * power loss): they become 'interrupted', so no front end shows them as in progress forever.
 * Runs owned by a live process (this one or another) are left alone (store/repos/runOwner.ts).
 */
import { defaultWorkspacePath, Workspace } from '../store';

export type { Workspace };

export function openWorkspace(file?: string): Workspace {
  const ws = Workspace.open(file ?? defaultWorkspacePath());
  try {
    ws.runs.interruptAbandoned();
  } catch (e) {
    ws.close();
    throw e;
  }
  return ws;
}

export { defaultWorkspacePath };
