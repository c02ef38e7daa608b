/** Feature extractors (ONNX models), identified by the hash of their file so a moved file is the same one. */
import type Database from 'better-sqlite3';
import { fromJson, toJson } from '../json';

export interface ExtractorRow {
  id: number;
  name: string;
  fileHash: string;
  /** where the model file was last seen */
  path: string;
  /** the model's input spec (size, normalization, ...), as the features module describes it */
  inputSpec: unknown;
}

type RawExtractor = Omit<ExtractorRow, 'inputSpec'> & { inputSpec: string | null };

const COLUMNS = 'id, name, file_hash AS fileHash, path, input_spec AS inputSpec';

const parse = (row: RawExtractor | undefined): ExtractorRow | undefined =>
  row && { ...row, inputSpec: fromJson<unknown>(row.inputSpec) };

export class ExtractorRepo {
  private readonly upsertStmt: Database.Statement<[string, string, string, string | null], RawExtractor>;
  private readonly getStmt: Database.Statement<[number], RawExtractor>;
  private readonly byHashStmt: Database.Statement<[string], RawExtractor>;
  private readonly byNameStmt: Database.Statement<[string], RawExtractor>;
  private readonly listStmt: Database.Statement<[], RawExtractor>;

  constructor(db: Database.Database) {
    this.upsertStmt = db.prepare(`
      INSERT INTO extractors (name, file_hash, path, input_spec) VALUES (?, ?, ?, ?)
      ON CONFLICT (file_hash) DO UPDATE SET
        name = excluded.name, path = excluded.path, input_spec = excluded.input_spec
      RETURNING ${COLUMNS}`);
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM extractors WHERE id = ?`);
    this.byHashStmt = db.prepare(`SELECT ${COLUMNS} FROM extractors WHERE file_hash = ?`);
    // names are not unique (an updated model file is a new extractor): the newest wins
    this.byNameStmt = db.prepare(`SELECT ${COLUMNS} FROM extractors WHERE name = ? ORDER BY id DESC LIMIT 1`);
    this.listStmt = db.prepare(`SELECT ${COLUMNS} FROM extractors ORDER BY name, id`);
  }

  /** Register an extractor, or update name/path/spec of the one with the same file hash (its id and features stay). */
  upsert(input: { name: string; fileHash: string; path: string; inputSpec: unknown }): ExtractorRow {
    return parse(this.upsertStmt.get(input.name, input.fileHash, input.path, toJson(input.inputSpec)))!;
  }

  get(id: number): ExtractorRow | undefined {
    return parse(this.getStmt.get(id));
  }

  byHash(fileHash: string): ExtractorRow | undefined {
    return parse(this.byHashStmt.get(fileHash));
  }

  /** The newest extractor with this name. */
  byName(name: string): ExtractorRow | undefined {
    return parse(this.byNameStmt.get(name));
  }

  list(): ExtractorRow[] {
    return this.listStmt.all().map((row) => parse(row)!);
  }
}
