/** A tiny PNG line-chart writer (RGB, zlib from node:zlib) for the loss curves. */
import { deflateSync } from "node:zlib";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export class Canvas {
  constructor(width, height) {
    this.w = width;
    this.h = height;
    this.px = new Uint8Array(width * height * 3).fill(255);
  }
  set(x, y, [r, g, b]) {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.w || y >= this.h) return;
    const o = (y * this.w + x) * 3;
    this.px[o] = r;
    this.px[o + 1] = g;
    this.px[o + 2] = b;
  }
  line(x0, y0, x1, y1, color, thick = 1) {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      for (let dx = 0; dx < thick; dx++) for (let dy = 0; dy < thick; dy++) this.set(x + dx, y + dy, color);
    }
  }
  rect(x0, y0, x1, y1, color) {
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) this.set(x, y, color);
  }
  png() {
    const raw = Buffer.alloc((this.w * 3 + 1) * this.h);
    for (let y = 0; y < this.h; y++) {
      raw[y * (this.w * 3 + 1)] = 0;
      Buffer.from(this.px.buffer, y * this.w * 3, this.w * 3).copy(raw, y * (this.w * 3 + 1) + 1);
    }
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(this.w, 0);
    ihdr.writeUInt32BE(this.h, 4);
    ihdr[8] = 8;
    ihdr[9] = 2;
    return Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
      chunk("IHDR", ihdr),
      chunk("IDAT", deflateSync(raw)),
      chunk("IEND", Buffer.alloc(0)),
    ]);
  }
}

/**
 * Panels side by side, one per stage: { title, series: [{ points: [[x, y]], color, dots? }] },
 * y axes from 0 to the panel's highest loss with grid lines every 1 nat.
 */
export function lossChart(panels, { width = 1000, height = 360 } = {}) {
  const c = new Canvas(width, height);
  const pw = Math.floor(width / panels.length);
  panels.forEach((panel, i) => {
    const x0 = i * pw + 40;
    const x1 = (i + 1) * pw - 15;
    const y0 = 20;
    const y1 = height - 30;
    const all = panel.series.flatMap((s) => s.points);
    const maxX = Math.max(...all.map((p) => p[0]), 1);
    const maxY = Math.ceil(Math.max(...all.map((p) => p[1]), 1));
    for (let v = 0; v <= maxY; v++) {
      const y = y1 - ((y1 - y0) * v) / maxY;
      c.line(x0, y, x1, y, [225, 225, 225]);
      // tick marks: one short dash per nat, a long one every 5
      c.line(x0 - (v % 5 === 0 ? 10 : 5), y, x0, y, [0, 0, 0]);
    }
    c.line(x0, y0, x0, y1, [0, 0, 0]);
    c.line(x0, y1, x1, y1, [0, 0, 0]);
    const px = (x) => x0 + ((x1 - x0) * x) / maxX;
    const py = (y) => y1 - ((y1 - y0) * Math.min(y, maxY)) / maxY;
    for (const s of panel.series) {
      const pts = s.points;
      if (s.dots) for (const [x, y] of pts) c.rect(px(x) - 3, py(y) - 3, px(x) + 3, py(y) + 3, s.color);
      for (let k = 1; k < pts.length; k++) {
        c.line(px(pts[k - 1][0]), py(pts[k - 1][1]), px(pts[k][0]), py(pts[k][1]), s.color, s.dots ? 2 : 1);
      }
    }
  });
  return c.png();
}
