/**
 * Packs decoded images (RGB bytes, HWC, already resized to the spec's width × height) into the
 * float32 tensor an ONNX extractor takes.
 *
 * For image i, pixel (y, x) and colour c ∈ {r, g, b}, with byte p = img[(y·W + x)·3 + c]:
 *
 *     v = (p · scale − mean[c]) / std[c]
 *
 * written at [i, k, y, x] (NCHW) or [i, y, x, k] (NHWC), where k is the position of c in the
 * spec's channel order (RGB: r→0 g→1 b→2; BGR: b→0 g→1 r→2). mean and std are given as [r, g, b].
 */
import type { ExtractorInputSpec } from './inputSpec';

type PackSpec = Pick<
  ExtractorInputSpec,
  'width' | 'height' | 'layout' | 'channelOrder' | 'scale' | 'mean' | 'std'
>;

export function pixelsToTensor(images: readonly Uint8Array[], spec: PackSpec): Float32Array {
  const { width: w, height: h } = spec;
  const plane = w * h;
  const expected = plane * 3;
  images.forEach((img, i) => {
    if (img.length !== expected) {
      throw new Error(
        `pixelsToTensor: image ${i} has ${img.length} bytes, expected ${w}×${h}×3 = ${expected} ` +
          '(RGB, resized to the extractor input size)',
      );
    }
  });

  // A 256-entry table per colour: exactly the formula above (in float64, then rounded once to
  // float32), and no per-pixel multiply/divide.
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < 256; p++) lut[c * 256 + p] = (p * spec.scale - spec.mean[c]) / spec.std[c];
  }
  // destination channel of r, g, b
  const [kr, kg, kb] = spec.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];

  const out = new Float32Array(images.length * expected);
  for (let i = 0; i < images.length; i++) {
    const img = images[i];
    const base = i * expected;
    if (spec.layout === 'NCHW') {
      const r = base + kr * plane;
      const g = base + kg * plane;
      const b = base + kb * plane;
      for (let j = 0, s = 0; j < plane; j++, s += 3) {
        out[r + j] = lut[img[s]];
        out[g + j] = lut[256 + img[s + 1]];
        out[b + j] = lut[512 + img[s + 2]];
      }
    } else {
      for (let j = 0, s = 0; j < plane; j++, s += 3) {
        const o = base + s;
        out[o + kr] = lut[img[s]];
        out[o + kg] = lut[256 + img[s + 1]];
        out[o + kb] = lut[512 + img[s + 2]];
      }
    }
  }
  return out;
}
