/**
 * The feature cache: one float32 vector per (image content hash, extractor), shared by every dataset
 * and run that contains the same image. Hash lists travel as one JSON array parameter (json_each),
 * which keeps a single prepared statement for any number of hashes and SQLite's variable limit out of reach.
 */
import type Database from 'better-sqlite3';
import { UserError } from '../../util/errors';
import { blobInto, vectorToBlob } from '../vectors';

export interface FeatureInput {
  contentHash: string;
  vector: Float32Array;
}

export class FeatureRepo {
  private readonly putStmt: Database.Statement<[string, number, number, Buffer, string]>;
  private readonly dimStmt: Database.Statement<[number], number>;
  private readonly missingStmt: Database.Statement<[string, number], string>;
  private readonly countStmt: Database.Statement<[number], number>;
  private readonly loadStmt: Database.Statement<
    [string, number],
    { i: number; dim: number | null; vector: Buffer | null }
  >;
  private readonly nameStmt: Database.Statement<[number], string>;
  private readonly putBatch: (extractorId: number, rows: readonly FeatureInput[]) => void;

  constructor(db: Database.Database) {
    this.putStmt = db.prepare(
      'INSERT OR REPLACE INTO features (content_hash, extractor_id, dim, vector, created) VALUES (?, ?, ?, ?, ?)',
    );
    this.dimStmt = db
      .prepare<[number], number>('SELECT dim FROM features WHERE extractor_id = ? LIMIT 1')
      .pluck();
    this.missingStmt = db
      .prepare<[string, number], string>(
        `SELECT j.value FROM json_each(?) j
         WHERE NOT EXISTS (SELECT 1 FROM features f WHERE f.content_hash = j.value AND f.extractor_id = ?)
         ORDER BY j.key`,
      )
      .pluck();
    this.countStmt = db
      .prepare<[number], number>('SELECT count(*) FROM features WHERE extractor_id = ?')
      .pluck();
    this.loadStmt = db.prepare(`
      SELECT j.key AS i, f.dim, f.vector FROM json_each(?) j
      LEFT JOIN features f ON f.content_hash = j.value AND f.extractor_id = ?
      ORDER BY j.key`);
    this.nameStmt = db.prepare<[number], string>('SELECT name FROM extractors WHERE id = ?').pluck();
    this.putBatch = db.transaction((extractorId: number, rows: readonly FeatureInput[]) => {
      const dim = this.dimStmt.get(extractorId) ?? rows[0]?.vector.length;
      const created = new Date().toISOString();
      for (const { contentHash, vector } of rows) {
        if (vector.length !== dim || dim === 0) {
          // one extractor always yields one length: anything else is a bug upstream, not a user mistake
          throw new Error(
            `features of extractor ${extractorId} must all have ${dim} values, but ${contentHash} has ${vector.length}`,
          );
        }
        this.putStmt.run(contentHash, extractorId, dim, vectorToBlob(vector), created);
      }
    });
  }

  /** Store (or replace) vectors in one transaction; all rows of one extractor must have the same length. */
  putMany(extractorId: number, rows: readonly FeatureInput[]): void {
    this.putBatch(extractorId, rows);
  }

  /** The distinct hashes among `hashes` that have no vector for this extractor yet, in the order given. */
  missing(extractorId: number, hashes: readonly string[]): string[] {
    return this.missingStmt.all(JSON.stringify([...new Set(hashes)]), extractorId);
  }

  count(extractorId: number): number {
    return this.countStmt.get(extractorId) ?? 0;
  }

  /**
   * The vectors of `hashes` as one row-major matrix (row i = hashes[i]). A UserError if any hash has
   * no features yet: extraction has to run first.
   */
  load(extractorId: number, hashes: readonly string[]): { dim: number; matrix: Float32Array } {
    const dim = this.dimStmt.get(extractorId) ?? 0;
    const matrix = new Float32Array(hashes.length * dim);
    let missing = 0;
    // iterate, not all(): 20k vectors of 2048 floats would otherwise sit in memory twice
    for (const row of this.loadStmt.iterate(JSON.stringify(hashes), extractorId)) {
      if (row.vector === null) {
        missing++;
        continue;
      }
      if (row.dim !== dim) {
        throw new Error(`features of extractor ${extractorId} have mixed lengths (${dim} and ${row.dim})`);
      }
      blobInto(row.vector, matrix, row.i * dim);
    }
    if (missing > 0) {
      const name = this.nameStmt.get(extractorId) ?? `#${extractorId}`;
      throw new UserError(
        `${missing} of ${hashes.length} items have no features from extractor "${name}" yet`,
        'extract their features with this extractor first',
      );
    }
    return { dim, matrix };
  }
}
