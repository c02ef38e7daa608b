/** The trained model of a run: stored inline (bytes) or as a file path, with its sha256. */
import type Database from 'better-sqlite3';

export interface ModelInput {
  /** e.g. 'cfdet', 'onnx' */
  format: string;
  bytes?: Uint8Array;
  path?: string;
  sha256: string;
}

export interface ModelRow {
  runId: number;
  format: string;
  bytes: Uint8Array | null;
  path: string | null;
  sha256: string;
}

export class ModelRepo {
  private readonly putStmt: Database.Statement<[number, string, Buffer | null, string | null, string]>;
  private readonly getStmt: Database.Statement<[number], ModelRow>;

  constructor(db: Database.Database) {
    // one model per run: saving again (e.g. a re-export) replaces it
    this.putStmt = db.prepare(
      'INSERT OR REPLACE INTO models (run_id, format, bytes, path, sha256) VALUES (?, ?, ?, ?, ?)',
    );
    this.getStmt = db.prepare(
      'SELECT run_id AS runId, format, bytes, path, sha256 FROM models WHERE run_id = ?',
    );
  }

  put(runId: number, model: ModelInput): void {
    if (!model.bytes && !model.path) throw new Error(`model of run ${runId} needs bytes or a path`);
    const bytes = model.bytes
      ? Buffer.from(model.bytes.buffer, model.bytes.byteOffset, model.bytes.byteLength)
      : null;
    this.putStmt.run(runId, model.format, bytes, model.path ?? null, model.sha256);
  }

  get(runId: number): ModelRow | undefined {
    return this.getStmt.get(runId);
  }
}
