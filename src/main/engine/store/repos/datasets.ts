/** Datasets: a named folder (or table file) of items, with per-dataset item and label counts. */
import type Database from 'better-sqlite3';
import { UserError } from '../../util/errors';

export type DatasetKind = 'image' | 'tabular';

export interface DatasetRow {
  id: number;
  name: string;
  kind: DatasetKind;
  /** the folder (or file) the dataset was added from */
  root: string;
  /** ISO time */
  created: string;
}

export interface DatasetSummary extends DatasetRow {
  items: number;
  ok: number;
  unreadable: number;
  /** distinct item labels, sorted */
  labels: string[];
}

const COLUMNS = 'id, name, kind, root, created';

export class DatasetRepo {
  private readonly insertStmt: Database.Statement<[string, string, string, string], DatasetRow>;
  private readonly getStmt: Database.Statement<[number], DatasetRow>;
  private readonly byNameStmt: Database.Statement<[string], DatasetRow>;
  private readonly listStmt: Database.Statement<[], DatasetRow & { counts: string }>;
  private readonly removeStmt: Database.Statement<[number]>;

  constructor(private readonly db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO datasets (name, kind, root, created) VALUES (?, ?, ?, ?) RETURNING ${COLUMNS}`,
    );
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM datasets WHERE id = ?`);
    this.byNameStmt = db.prepare(`SELECT ${COLUMNS} FROM datasets WHERE name = ?`);
    // one pass over items per dataset (the (dataset_id, label) index), counts and labels as one JSON value
    this.listStmt = db.prepare(`
      SELECT ${COLUMNS},
        (SELECT json_object(
                  'items', count(*),
                  'ok', coalesce(sum(status = 'ok'), 0),
                  'unreadable', coalesce(sum(status = 'unreadable'), 0),
                  -- json(): a subquery result loses its JSON subtype and would be embedded as a string
                  'labels', json((SELECT json_group_array(label)
                                  FROM (SELECT DISTINCT label FROM items WHERE dataset_id = d.id ORDER BY label))))
         FROM items WHERE dataset_id = d.id) AS counts
      FROM datasets d ORDER BY name`);
    this.removeStmt = db.prepare('DELETE FROM datasets WHERE id = ?');
  }

  /** Add a dataset; a UserError if the name is taken. */
  create(input: { name: string; kind: DatasetKind; root: string }): DatasetRow {
    try {
      return this.insertStmt.get(input.name, input.kind, input.root, new Date().toISOString())!;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new UserError(
          `a dataset named "${input.name}" already exists in workspace "${this.db.name}"`,
          'Choose another name, or remove the existing dataset first.',
        );
      }
      throw err;
    }
  }

  get(id: number): DatasetRow | undefined {
    return this.getStmt.get(id);
  }

  byName(name: string): DatasetRow | undefined {
    return this.byNameStmt.get(name);
  }

  /** Every dataset by name, with its item counts and labels. */
  list(): DatasetSummary[] {
    return this.listStmt.all().map(({ counts, ...row }) => ({
      ...row,
      ...(JSON.parse(counts) as Pick<DatasetSummary, 'items' | 'ok' | 'unreadable' | 'labels'>),
    }));
  }

  /**
   * Remove a dataset and (by cascade) its items and their scores and picks. Runs that used it keep
   * their history with the dataset reference set to null. Cached features stay: they are keyed by
   * content hash, so adding the folder again reuses them. Returns whether a dataset was removed.
   */
  remove(id: number): boolean {
    return this.removeStmt.run(id).changes > 0;
  }
}
