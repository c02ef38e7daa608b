#!/usr/bin/env node
/**
 * Draws CF Studio's app icon (a flow of points bending into a density, one point out of it) and
 * writes the files electron-builder packs (electron-builder.cjs): resources/icon.png (512 px,
 * Linux and the source for other sizes), resources/icon.icns (macOS: PNG entries 16–512 px) and
 * resources/icon.ico (Windows: PNG entries 16–256 px). Flat colours and a palette keep them small.
 *
 *   node scripts/make-icons.mjs
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const resources = join(dirname(fileURLToPath(import.meta.url)), '..', 'resources');

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">
  <rect x="24" y="24" width="464" height="464" rx="104" fill="#1d2b4f"/>
  <path d="M96 352 C176 352 176 160 256 160 S336 352 416 352" fill="none" stroke="#5fb3f9" stroke-width="28" stroke-linecap="round"/>
  <circle cx="256" cy="160" r="30" fill="#5fb3f9"/>
  <circle cx="176" cy="262" r="20" fill="#9fd3ff"/>
  <circle cx="336" cy="262" r="20" fill="#9fd3ff"/>
  <circle cx="392" cy="132" r="34" fill="#ff7a59"/>
</svg>`;

/** The icon as a PNG of `size` px. */
function png(size) {
  return sharp(Buffer.from(svg), { density: Math.max(72, (72 * size) / 512) })
    .resize(size, size)
    .png({ palette: true, compressionLevel: 9 })
    .toBuffer();
}

/** An .icns: 'icns' + total length, then (type, length, PNG) entries. */
async function icns() {
  const types = [
    ['icp4', 16],
    ['icp5', 32],
    ['ic07', 128],
    ['ic08', 256],
    ['ic09', 512],
  ];
  const entries = [];
  for (const [type, size] of types) {
    const data = await png(size);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(data.length + 8, 4);
    entries.push(head, data);
  }
  const body = Buffer.concat(entries);
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([head, body]);
}

/** An .ico with PNG-compressed images (Windows Vista and later). */
async function ico() {
  const sizes = [16, 32, 48, 256];
  const images = await Promise.all(sizes.map(png));
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(sizes.length, 4);
  const dir = Buffer.alloc(16 * sizes.length);
  let offset = header.length + dir.length;
  sizes.forEach((size, i) => {
    const e = i * 16;
    dir.writeUInt8(size >= 256 ? 0 : size, e);
    dir.writeUInt8(size >= 256 ? 0 : size, e + 1);
    dir.writeUInt16LE(1, e + 4);
    dir.writeUInt16LE(32, e + 6);
    dir.writeUInt32LE(images[i].length, e + 8);
    dir.writeUInt32LE(offset, e + 12);
    offset += images[i].length;
  });
  return Buffer.concat([header, dir, ...images]);
}

writeFileSync(join(resources, 'icon.png'), await png(512));
writeFileSync(join(resources, 'icon.icns'), await icns());
writeFileSync(join(resources, 'icon.ico'), await ico());
console.log('wrote resources/icon.png, icon.icns, icon.ico');
