/**
 * Multi-select in the ranked gallery, the way file managers do it: a click selects one image, a
 * Shift-click the range from the last clicked image (the anchor) to this one, a Ctrl/Cmd-click
 * adds or removes one. Positions are indices in the gallery's current list (rank order).
 */

export type SelectMode = 'single' | 'range' | 'toggle';

export interface GallerySelection {
  /** selected item ids, in the order they were selected */
  ids: number[];
  /** where a Shift-click range starts */
  anchor: number | null;
  /** the position last acted on: its tile has the keyboard focus */
  focus: number | null;
}

export const EMPTY_SELECTION: GallerySelection = { ids: [], anchor: null, focus: null };

/** The mode of a click or key press from its modifier keys. */
export function selectModeOf(e: { shiftKey: boolean; ctrlKey: boolean; metaKey: boolean }): SelectMode {
  if (e.shiftKey) return 'range';
  if (e.ctrlKey || e.metaKey) return 'toggle';
  return 'single';
}

/** The selection after acting on position `index`; `idAt` gives the item id there (if loaded). */
export function nextSelection(
  current: GallerySelection,
  index: number,
  mode: SelectMode,
  idAt: (index: number) => number | undefined,
): GallerySelection {
  const id = idAt(index);
  if (id === undefined) return current;
  if (mode === 'toggle') {
    const ids = current.ids.includes(id) ? current.ids.filter((x) => x !== id) : [...current.ids, id];
    return { ids, anchor: index, focus: index };
  }
  if (mode === 'range' && current.anchor !== null) {
    const [lo, hi] = current.anchor <= index ? [current.anchor, index] : [index, current.anchor];
    const ids: number[] = [];
    for (let i = lo; i <= hi; i++) {
      const x = idAt(i);
      if (x !== undefined) ids.push(x);
    }
    return { ids, anchor: current.anchor, focus: index };
  }
  return { ids: [id], anchor: index, focus: index };
}

/** Where an arrow key moves the focus in a grid of `columns` columns and `total` items (null: nowhere). */
export function arrowTarget(key: string, focus: number, columns: number, total: number): number | null {
  const step: Record<string, number> = {
    ArrowLeft: -1,
    ArrowRight: 1,
    ArrowUp: -columns,
    ArrowDown: columns,
    Home: -focus,
    End: total - 1 - focus,
  };
  const d = step[key];
  if (d === undefined) return null;
  const next = focus + d;
  return next >= 0 && next < total && next !== focus ? next : null;
}

/** The mark a key sets: N normal (a false alarm), A anomaly (confirmed), U none; undefined: not a mark key. */
export function markForKey(key: string): 'normal' | 'anomaly' | null | undefined {
  switch (key.toLowerCase()) {
    case 'n':
      return 'normal';
    case 'a':
      return 'anomaly';
    case 'u':
      return null;
    default:
      return undefined;
  }
}
