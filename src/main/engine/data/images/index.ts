/**
 * Image folders: scanning (find, identify by content, verify by decoding) and decoding to model
 * input or UI thumbnails. Everything else in this folder is internal.
 */
export { scanFolder } from './scanFolder';
export { decodeImage, decodeImageFile, decodeThumbnail } from './decodeImage';
export type { DecodedImageFile, DecodeOptions, DecodeTarget, ResizeMode } from './decodeImage';
export { DEFAULT_PIXEL_LIMIT, EXACT_ALPHA_MAX_PIXELS } from './openImage';
export { DEFAULT_DECODE_MEMORY_BUDGET, decodeMemoryInUse, setDecodeMemoryBudget } from './decodeMemory';
export type { ImageFormat } from './sniffFormat';
export type { ScannedItem, ScanOptions, ScanProblem, ScanProgress, ScanResult, ScanStatus } from './types';
