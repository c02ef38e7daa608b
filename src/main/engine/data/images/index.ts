/**
 * Image folders: scanning (find, identify by content, verify by decoding) and decoding to model
 * input or UI thumbnails. Everything else in this folder is internal.
 */
export { scanFolder } from './scanFolder';
export { decodeImage, decodeThumbnail } from './decodeImage';
export type { DecodeOptions, DecodeTarget, ResizeMode } from './decodeImage';
export { DEFAULT_PIXEL_LIMIT } from './openImage';
export type { ImageFormat } from './sniffFormat';
export type { ScannedItem, ScanOptions, ScanProblem, ScanProgress, ScanResult, ScanStatus } from './types';
