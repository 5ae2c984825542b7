#!/usr/bin/env node
// Generates the tray icons into resources/ (no dependencies: shapes rasterised here, PNG via zlib).
//
//   resources/tray-{awake,asleep,trouble}.png       16 px, colour (Windows, Linux)
//   resources/tray-{awake,asleep,trouble}@2x.png    32 px, colour
//   resources/tray-{awake,asleep,trouble}Template.png / Template@2x.png   black + alpha (macOS menu bar)
//
// Electron picks the @2x file on HiDPI screens by itself and treats a name ending in "Template" as a
// template image (macOS tints it for light / dark menu bars). Run: node scripts/make-icons.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'resources');

// ---- PNG ------------------------------------------------------------------------------------------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** rgba: Float32Array of size*size*4 in 0..1, straight alpha. */
function png(size, rgba) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size * 4; x++) raw[y * (size * 4 + 1) + 1 + x] = Math.round(Math.min(1, Math.max(0, rgba[y * size * 4 + x])) * 255);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- shapes in a 32x32 design space: each returns true when (x, y) is inside ------------------------
const roundRect = (x0, y0, x1, y1, r) => (x, y) => {
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return x >= x0 && x <= x1 && y >= y0 && y <= y1 && (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
const circle = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const minus = (a, b) => (x, y) => a(x, y) && !b(x, y);
/** A stroke along y = cy + amp*sin(...) between x0 and x1 (the logo's wave), half-width w. */
const wave = (x0, x1, cy, amp, w) => {
  const pts = [];
  for (let i = 0; i <= 64; i++) {
    const x = x0 + ((x1 - x0) * i) / 64;
    pts.push([x, cy - amp * Math.sin(((x - x0) / (x1 - x0)) * 2 * Math.PI)]);
  }
  return (x, y) => {
    for (let i = 1; i < pts.length; i++) {
      const [ax, ay] = pts[i - 1];
      const [bx, by] = pts[i];
      const dx = bx - ax;
      const dy = by - ay;
      const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
      if ((x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= w * w) return true;
    }
    return false;
  };
};
const triangle = (ax, ay, bx, by, cx, cy) => (x, y) => {
  const s = (px, py, qx, qy) => (x - qx) * (py - qy) - (px - qx) * (y - qy);
  const d1 = s(ax, ay, bx, by);
  const d2 = s(bx, by, cx, cy);
  const d3 = s(cx, cy, ax, ay);
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
};
const union = (...fs) => (x, y) => fs.some((f) => f(x, y));

// ---- layers: [shape, [r, g, b, a]] painted in order ------------------------------------------------
const hex = (h, a = 1) => [parseInt(h.slice(1, 3), 16) / 255, parseInt(h.slice(3, 5), 16) / 255, parseInt(h.slice(5, 7), 16) / 255, a];
const BLUE = hex('#2563eb');
const SLATE = hex('#475569');
const WHITE = hex('#ffffff');
const WHITE_SOFT = hex('#ffffff', 0.6);
const RED = hex('#dc2626');
const BLACK = hex('#000000');

const square = roundRect(1, 1, 31, 31, 7.5);
const waves = (y1, y2, amp = 3.2, w = 2.1) => [wave(6, 26, y1, amp, w), wave(6, 26, y2, amp, w)];
const [waveTop, waveBottom] = waves(12.5, 20.5);
const moon = minus(circle(16, 16, 9), circle(20.5, 12, 7.6));
const badge = circle(24.5, 24.5, 7.5);
const badgeRing = circle(24.5, 24.5, 9.6);
const bang = union(roundRect(23.2, 19.5, 25.8, 26, 1.3), circle(24.5, 28.6, 1.5));

const ICONS = {
  awake: [
    [square, BLUE],
    [waveTop, WHITE_SOFT],
    [waveBottom, WHITE],
  ],
  asleep: [
    [square, SLATE],
    [moon, WHITE],
  ],
  trouble: [
    [minus(square, badgeRing), BLUE],
    [minus(waveTop, badgeRing), WHITE_SOFT],
    [minus(waveBottom, badgeRing), WHITE],
    [badge, RED],
    [bang, WHITE],
  ],
  // Template: black shapes on transparent; macOS tints them. Each state has its own shape.
  awakeTemplate: [
    [wave(3, 29, 11, 3.6, 2.4), hex('#000000', 0.55)],
    [wave(3, 29, 21, 3.6, 2.4), BLACK],
  ],
  asleepTemplate: [[minus(circle(16, 16, 12), circle(22, 10.5, 10)), BLACK]],
  troubleTemplate: [[minus(triangle(16, 2.5, 30.5, 28.5, 1.5, 28.5), union(roundRect(14.4, 10.5, 17.6, 20.5, 1.5), circle(16, 24.2, 1.9))), BLACK]],
};

function render(layers, size) {
  const rgba = new Float32Array(size * size * 4);
  const n = 5; // n*n supersamples per pixel
  const scale = 32 / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0; // premultiplied
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = (px + (sx + 0.5) / n) * scale;
          const y = (py + (sy + 0.5) / n) * scale;
          let cr = 0, cg = 0, cb = 0, ca = 0;
          for (const [shape, [lr, lg, lb, la]] of layers) {
            if (!shape(x, y)) continue;
            cr = lr * la + cr * (1 - la);
            cg = lg * la + cg * (1 - la);
            cb = lb * la + cb * (1 - la);
            ca = la + ca * (1 - la);
          }
          r += cr; g += cg; b += cb; a += ca;
        }
      }
      const k = n * n;
      const i = (py * size + px) * 4;
      a /= k;
      rgba[i] = a ? r / k / a : 0;
      rgba[i + 1] = a ? g / k / a : 0;
      rgba[i + 2] = a ? b / k / a : 0;
      rgba[i + 3] = a;
    }
  }
  return rgba;
}

mkdirSync(out, { recursive: true });
for (const [name, layers] of Object.entries(ICONS)) {
  const base = name.endsWith('Template') ? `tray-${name}` : `tray-${name}`;
  for (const [size, suffix] of [[16, ''], [32, '@2x']]) {
    const file = path.join(out, `${base}${suffix}.png`);
    writeFileSync(file, png(size, render(layers, size)));
    console.log(path.relative(root, file));
  }
}
