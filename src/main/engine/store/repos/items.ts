/** Items: the files (or table rows) of a dataset, with their label, content hash and readability. */
import type Database from 'better-sqlite3';

export type ItemStatus = 'ok' | 'unreadable';

export interface NewItem {
  /** path relative to the dataset root, '/'-separated; unique within the dataset */
  relPath: string;
  label: string;
  contentHash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  bytes: number | null;
  mtimeMs: number | null;
  status: ItemStatus;
  /** why the item is unreadable */
  reason: string | null;
}

export interface ItemRow extends NewItem {
  id: number;
  datasetId: number;
}

// qualified: byIds joins json_each, which has an `id` column of its own
const COLUMNS = `i.id, i.dataset_id AS datasetId, i.rel_path AS relPath, i.label, i.content_hash AS contentHash,
  i.width, i.height, i.format, i.bytes, i.mtime_ms AS mtimeMs, i.status, i.reason`;

export class ItemRepo {
  private readonly upsertStmt: Database.Statement<[NewItem & { datasetId: number }]>;
  private readonly listStmt: Database.Statement<
    [{ datasetId: number; status: string | null; labels: string | null }],
    ItemRow
  >;
  private readonly getStmt: Database.Statement<[number], ItemRow>;
  private readonly labelsStmt: Database.Statement<[number], { label: string; count: number }>;
  private readonly okLabelsStmt: Database.Statement<[number], { label: string; count: number }>;
  private readonly markUnreadableStmt: Database.Statement<[string, number]>;
  private readonly recordContentStmt: Database.Statement<
    [{ id: number; contentHash: string; bytes: number; mtimeMs: number }]
  >;
  private readonly removeMissingStmt: Database.Statement<[number, string]>;
  private readonly byIdsStmt: Database.Statement<[string], ItemRow>;
  private readonly upsertBatch: (datasetId: number, items: readonly NewItem[]) => void;

  constructor(db: Database.Database) {
    this.upsertStmt = db.prepare(`
      INSERT INTO items (dataset_id, rel_path, label, content_hash, width, height, format, bytes, mtime_ms,
                         status, reason)
      VALUES (@datasetId, @relPath, @label, @contentHash, @width, @height, @format, @bytes, @mtimeMs,
              @status, @reason)
      ON CONFLICT (dataset_id, rel_path) DO UPDATE SET
        label = excluded.label, content_hash = excluded.content_hash, width = excluded.width,
        height = excluded.height, format = excluded.format, bytes = excluded.bytes,
        mtime_ms = excluded.mtime_ms, status = excluded.status, reason = excluded.reason`);
    // filters are optional: a NULL parameter switches its condition off (labels is a JSON array)
    this.listStmt = db.prepare(`
      SELECT ${COLUMNS} FROM items i
      WHERE dataset_id = @datasetId
        AND (@status IS NULL OR status = @status)
        AND (@labels IS NULL OR label IN (SELECT value FROM json_each(@labels)))
      ORDER BY rel_path`);
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM items i WHERE id = ?`);
    this.labelsStmt = db.prepare(
      'SELECT label, count(*) AS count FROM items WHERE dataset_id = ? GROUP BY label ORDER BY label',
    );
    this.okLabelsStmt = db.prepare(
      "SELECT label, count(*) AS count FROM items WHERE dataset_id = ? AND status = 'ok' GROUP BY label ORDER BY label",
    );
    this.markUnreadableStmt = db.prepare("UPDATE items SET status = 'unreadable', reason = ? WHERE id = ?");
    this.recordContentStmt = db.prepare(
      'UPDATE items SET content_hash = @contentHash, bytes = @bytes, mtime_ms = @mtimeMs WHERE id = @id',
    );
    // a JSON array parameter instead of IN (?, ?, ...): one statement for any count, no variable limit
    this.removeMissingStmt = db.prepare(
      'DELETE FROM items WHERE dataset_id = ? AND rel_path NOT IN (SELECT value FROM json_each(?))',
    );
    this.byIdsStmt = db.prepare(`
      SELECT ${COLUMNS} FROM json_each(?) j JOIN items i ON i.id = j.value ORDER BY j.key`);
    this.upsertBatch = db.transaction((datasetId: number, items: readonly NewItem[]) => {
      for (const item of items) this.upsertStmt.run({ ...item, datasetId });
    });
  }

  /**
   * Insert or update items by (dataset, relPath) in one transaction. An item seen before keeps its
   * id, so scores and picks that point at it stay valid across re-scans.
   */
  upsertMany(datasetId: number, items: readonly NewItem[]): void {
    this.upsertBatch(datasetId, items);
  }

  /** Items of a dataset by relPath, optionally only one status and/or some labels. */
  list(datasetId: number, filter: { status?: ItemStatus; labels?: readonly string[] } = {}): ItemRow[] {
    return this.listStmt.all({
      datasetId,
      status: filter.status ?? null,
      labels: filter.labels ? JSON.stringify(filter.labels) : null,
    });
  }

  get(id: number): ItemRow | undefined {
    return this.getStmt.get(id);
  }

  /** Labels of a dataset with their item counts, sorted by label. */
  /** Labels of a dataset with their item counts; `status: 'ok'` counts readable items only. */
  labels(datasetId: number, filter: { status?: 'ok' } = {}): { label: string; count: number }[] {
    return (filter.status === 'ok' ? this.okLabelsStmt : this.labelsStmt).all(datasetId);
  }

  markUnreadable(itemId: number, reason: string): void {
    this.markUnreadableStmt.run(reason, itemId);
  }

  /**
   * The item's file was found with other bytes than at its scan (read again for extraction):
   * record the hash of the bytes actually read, so features are cached under what was decoded.
   */
  recordContent(itemId: number, content: { contentHash: string; bytes: number; mtimeMs: number }): void {
    this.recordContentStmt.run({ id: itemId, ...content });
  }

  /** Delete the dataset's items whose relPath is not in `keepRelPaths` (gone from disk); returns how many. */
  removeMissing(datasetId: number, keepRelPaths: readonly string[]): number {
    return this.removeMissingStmt.run(datasetId, JSON.stringify(keepRelPaths)).changes;
  }

  /** Items with these ids, in the order asked; unknown ids are skipped. */
  byIds(ids: readonly number[]): ItemRow[] {
    return this.byIdsStmt.all(JSON.stringify(ids));
  }
}
