/**
 * What a scan of an image folder reports: one item per file that could hold an image (readable or
 * not, with the reason), and problems for paths that are not files to extract at all.
 */

export type ScanStatus = 'ok' | 'unreadable';

export interface ScannedItem {
  /** Path below the scan root, with '/' separators on every platform. */
  relPath: string;
  /** First path segment below the root for files in a subfolder (the class folder), else ''. */
  label: string;
  status: ScanStatus;
  /** Why the file is unreadable ("permission denied", "truncated or corrupt JPEG: …"); null when ok. */
  reason: string | null;
  /** sha256 hex of the file bytes; null when the bytes could not be read. */
  contentHash: string | null;
  /** Format found from the content ('jpeg', 'png', …), also for broken images; null if not an image. */
  format: string | null;
  /** Size as displayed (after EXIF rotation); null when the header could not be read. */
  width: number | null;
  height: number | null;
  /** File size in bytes (0 when it could not be stat'ed). */
  bytes: number;
  mtimeMs: number;
}

/** A path the scan could not descend into or follow (symlink loop, dangling link, unreadable folder…). */
export interface ScanProblem {
  relPath: string;
  reason: string;
}

export interface ScanResult {
  /** Absolute, symlinks resolved. */
  root: string;
  /** Sorted by relPath (code-unit order, the same on every platform). */
  items: ScannedItem[];
  problems: ScanProblem[];
}

export interface ScanProgress {
  /** Files found so far by the folder walk. */
  found: number;
  /** Files read and checked (ok + skipped). */
  checked: number;
  ok: number;
  /** Files checked and found unreadable; they will be left out of training. */
  skipped: number;
}

export interface ScanOptions {
  /** Largest accepted width × height; default DEFAULT_PIXEL_LIMIT (100 MP). */
  pixelLimit?: number;
  /**
   * Files read and decoded at once; default os.availableParallelism(). Large images wait further
   * for room in the process-wide decode memory budget (decodeMemory.ts).
   */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called at most every ~100 ms, and once at the end. */
  onProgress?: (p: ScanProgress) => void;
}
