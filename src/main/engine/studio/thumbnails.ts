/**
 * Thumbnails of workspace items (JPEG, longest side from a few fixed sizes so that caches hit),
 * refusing any item whose file resolves outside its dataset's folder (a symlink out of the
 * folder is never served).
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeThumbnail } from '../data/images';
import type { Workspace } from '../store';
import { UserError } from '../util/errors';

export const THUMBNAIL_SIZES = [64, 96, 128, 192, 256, 384, 512];

export async function itemThumbnail(ws: Workspace, itemId: number, size: number): Promise<Buffer> {
  if (!Number.isInteger(itemId) || itemId < 1) throw new UserError(`thumbnail: bad item id ${itemId}`);
  const s = THUMBNAIL_SIZES.find((t) => t >= size) ?? THUMBNAIL_SIZES[THUMBNAIL_SIZES.length - 1];
  const item = ws.items.get(itemId);
  const ds = item && ws.datasets.get(item.datasetId);
  if (!item || !ds) throw new UserError(`thumbnail: item ${itemId} is not in the workspace`);
  const root = fs.realpathSync(ds.root);
  const file = fs.realpathSync(path.join(root, item.relPath));
  if (file !== root && !file.startsWith(root + path.sep))
    throw new UserError(`thumbnail: ${item.relPath} resolves outside its dataset folder`);
  return decodeThumbnail(file, s);
}
