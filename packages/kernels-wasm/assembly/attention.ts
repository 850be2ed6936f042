// Causal self-attention over a KV cache, with GQA. A work unit is a block of query tokens of one
// KV head: all the query heads that share that KV head (the GQA group) and `tb` consecutive
// tokens. The unit walks the cache in chunks of CHUNK positions; with an f16 cache each chunk's K
// (then V) rows are converted to f32 once into scratch and serve every query of the unit (a
// conversion costs about as much as the products of one query, so it is paid once per 8+
// queries, not once per query as converting on the fly would). Scores are computed four
// positions at a time (one horizontal sum per four dot products). One generated token without
// GQA takes attentionHeads instead, which walks the cache rows in order for many heads at once.
//
// With an f16 cache, q and the probabilities are rounded to half first, as llama.cpp's f16
// matrix products do (their products of halves are exact in f32; only the order of the sums
// differs from llama.cpp's).

import { softmaxRow } from "./elementwise";
import { f32ToF16, f32x4ToF16Bits, roundToF16x4 } from "./f16";
import { hsum4f } from "./simd";

/** Cache positions converted at a time (per thread: CHUNK * headDim floats of scratch). */
const CHUNK = 128;

/** Four halves in the low 8 bytes of h as four float32s (exact, subnormals included). */
// @ts-expect-error: decorator
@inline
function halvesLow(h: v128): v128 {
  // A sign-extended half shifted left by 13 has its exponent and mantissa in place and copies of
  // the sign in bits 28..31: keep bit 31, then 2^112 rebiases the exponent.
  const v = v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(h), 13), i32x4.splat(0x8fffffff));
  return f32x4.mul(v, f32x4.splat(reinterpret<f32>(0x77800000)));
}

// @ts-expect-error: decorator
@inline
function halvesHigh(h: v128): v128 {
  const v = v128.and(i32x4.shl(i32x4.extend_high_i16x8_s(h), 13), i32x4.splat(0x8fffffff));
  return f32x4.mul(v, f32x4.splat(reinterpret<f32>(0x77800000)));
}

// The lone-query path (scoreRowsF16, accumulate16F16) reads eight halves at a time as four
// "raw" floats of the even halves and four of the odd ones: the half's bits moved into place but
// not yet multiplied by 2^112 (3 and 2 operations instead of 4 and 5). The query and the
// probabilities it meets carry that 2^112 instead: they are halves, at most 65504 < 2^16, so
// the scaled values stay finite and every product is the same float as before. The query is
// stored even dimensions then odd ones per eight, and the output accumulates in that order too.

/** The even halves of h (i32 lanes of two halves) as raw floats (value * 2^-112). */
// @ts-expect-error: decorator
@inline
function rawEven(h: v128): v128 {
  return v128.and(i32x4.shr_s(i32x4.shl(h, 16), 3), i32x4.splat(0x8fffe000));
}

/** The odd halves of h as raw floats (the even half's bits shifted below bit 13 are cleared). */
// @ts-expect-error: decorator
@inline
function rawOdd(h: v128): v128 {
  return v128.and(i32x4.shr_s(h, 3), i32x4.splat(0x8fffe000));
}

/** 2^112 as a float: a raw float times this is the half's value. */
const RAW_SCALE: f32 = reinterpret<f32>(0x77800000);

/** n rows of headDim halves (rowBytes apart) as f32 rows packed headDim floats apart at dst. */
function convertRows(src: usize, rowBytes: usize, n: i32, headDim: i32, dst: usize): void {
  const rowOut = (headDim as usize) << 2;
  for (let j = 0; j < n; j++) {
    const s = src + (j as usize) * rowBytes;
    const d = dst + (j as usize) * rowOut;
    for (let i = 0; i < headDim; i += 8) {
      const h = v128.load(s + ((i as usize) << 1));
      v128.store(d + ((i as usize) << 2), halvesLow(h));
      v128.store(d + ((i as usize) << 2), halvesHigh(h), 16);
    }
  }
}

/** sc[j] = q . K_j for j in [0, n), K rows kStride bytes apart (f32, headDim a multiple of 4). */
function scoreRows(q: usize, kp: usize, kStride: usize, n: i32, headDim: i32, sc: usize): void {
  const hb = (headDim as usize) << 2;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const k0 = kp + (j as usize) * kStride;
    const k1 = k0 + kStride;
    const k2 = k1 + kStride;
    const k3 = k2 + kStride;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    for (let o: usize = 0; o < hb; o += 16) {
      const qv = v128.load(q + o);
      a0 = f32x4.add(a0, f32x4.mul(qv, v128.load(k0 + o)));
      a1 = f32x4.add(a1, f32x4.mul(qv, v128.load(k1 + o)));
      a2 = f32x4.add(a2, f32x4.mul(qv, v128.load(k2 + o)));
      a3 = f32x4.add(a3, f32x4.mul(qv, v128.load(k3 + o)));
    }
    v128.store(sc + ((j as usize) << 2), hsum4f(a0, a1, a2, a3));
  }
  for (; j < n; j++) {
    const kj = kp + (j as usize) * kStride;
    let a = f32x4.splat(0);
    for (let o: usize = 0; o < hb; o += 16) a = f32x4.add(a, f32x4.mul(v128.load(q + o), v128.load(kj + o)));
    const t = f32x4.add(a, v128.shuffle<i32>(a, a, 2, 3, 0, 1));
    store<f32>(sc + ((j as usize) << 2), f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1));
  }
}

/**
 * scoreRows for one query against K rows of halves (kStride bytes apart), converted in registers:
 * when a unit has a single query (no GQA, one token), converting into scratch first would not be
 * repaid by a second query. q: scaled by 2^112, even then odd dimensions per eight (see rawEven).
 */
function scoreRowsF16(q: usize, kp: usize, kStride: usize, n: i32, headDim: i32, sc: usize): void {
  const hb2 = (headDim as usize) << 1;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const k0 = kp + (j as usize) * kStride;
    const k1 = k0 + kStride;
    const k2 = k1 + kStride;
    const k3 = k2 + kStride;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    for (let o: usize = 0; o < hb2; o += 16) {
      const qe = v128.load(q + (o << 1));
      const qo = v128.load(q + (o << 1), 16);
      const h0 = v128.load(k0 + o);
      a0 = f32x4.add(a0, f32x4.add(f32x4.mul(qe, rawEven(h0)), f32x4.mul(qo, rawOdd(h0))));
      const h1 = v128.load(k1 + o);
      a1 = f32x4.add(a1, f32x4.add(f32x4.mul(qe, rawEven(h1)), f32x4.mul(qo, rawOdd(h1))));
      const h2 = v128.load(k2 + o);
      a2 = f32x4.add(a2, f32x4.add(f32x4.mul(qe, rawEven(h2)), f32x4.mul(qo, rawOdd(h2))));
      const h3 = v128.load(k3 + o);
      a3 = f32x4.add(a3, f32x4.add(f32x4.mul(qe, rawEven(h3)), f32x4.mul(qo, rawOdd(h3))));
    }
    v128.store(sc + ((j as usize) << 2), hsum4f(a0, a1, a2, a3));
  }
  for (; j < n; j++) {
    const kj = kp + (j as usize) * kStride;
    let a = f32x4.splat(0);
    for (let o: usize = 0; o < hb2; o += 16) {
      const h = v128.load(kj + o);
      a = f32x4.add(a, f32x4.add(f32x4.mul(v128.load(q + (o << 1)), rawEven(h)), f32x4.mul(v128.load(q + (o << 1), 16), rawOdd(h))));
    }
    const t = f32x4.add(a, v128.shuffle<i32>(a, a, 2, 3, 0, 1));
    store<f32>(sc + ((j as usize) << 2), f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1));
  }
}

/**
 * accumulate16 with V rows of halves (vStride bytes apart), converted in registers (see
 * scoreRowsF16): p scaled by 2^112, out in even-then-odd order per eight dimensions.
 */
function accumulate16F16(p: usize, n: i32, vp: usize, vStride: usize, out: usize): void {
  let r0 = v128.load(out);
  let r1 = v128.load(out, 16);
  let r2 = v128.load(out, 32);
  let r3 = v128.load(out, 48);
  for (let j = 0; j < n; j++) {
    const pj = v128.load32_splat(p + ((j as usize) << 2));
    const v = vp + (j as usize) * vStride;
    const h0 = v128.load(v);
    const h1 = v128.load(v, 16);
    r0 = f32x4.add(r0, f32x4.mul(pj, rawEven(h0)));
    r1 = f32x4.add(r1, f32x4.mul(pj, rawOdd(h0)));
    r2 = f32x4.add(r2, f32x4.mul(pj, rawEven(h1)));
    r3 = f32x4.add(r3, f32x4.mul(pj, rawOdd(h1)));
  }
  v128.store(out, r0);
  v128.store(out, r1, 16);
  v128.store(out, r2, 32);
  v128.store(out, r3, 48);
}

/**
 * out[0..16) += sum_j p_j V_j[0..16) over n f32 rows vStride bytes apart. Sixteen dimensions per
 * pass, not 32: V8 loads all of a row's vectors before the products, and with eight accumulators
 * that is more live vectors than x64 has registers (an accumulator then round-trips through the
 * stack every position).
 */
function accumulate16(p: usize, n: i32, vp: usize, vStride: usize, out: usize): void {
  let r0 = v128.load(out);
  let r1 = v128.load(out, 16);
  let r2 = v128.load(out, 32);
  let r3 = v128.load(out, 48);
  for (let j = 0; j < n; j++) {
    const pj = v128.load32_splat(p + ((j as usize) << 2));
    const v = vp + (j as usize) * vStride;
    r0 = f32x4.add(r0, f32x4.mul(pj, v128.load(v)));
    r1 = f32x4.add(r1, f32x4.mul(pj, v128.load(v, 16)));
    r2 = f32x4.add(r2, f32x4.mul(pj, v128.load(v, 32)));
    r3 = f32x4.add(r3, f32x4.mul(pj, v128.load(v, 48)));
  }
  v128.store(out, r0);
  v128.store(out, r1, 16);
  v128.store(out, r2, 32);
  v128.store(out, r3, 48);
}

/** As accumulate16(F16) for 8 dimensions (the tail of head sizes that are not a multiple of 16). */
function accumulate8(p: usize, n: i32, vp: usize, vStride: usize, out: usize, f16: bool): void {
  let a = v128.load(out);
  let b = v128.load(out, 16);
  for (let j = 0; j < n; j++) {
    const pj = v128.load32_splat(p + ((j as usize) << 2));
    const v = vp + (j as usize) * vStride;
    const h = v128.load(v);
    a = f32x4.add(a, f32x4.mul(pj, f16 ? rawEven(h) : h));
    b = f32x4.add(b, f32x4.mul(pj, f16 ? rawOdd(h) : v128.load(v, 16)));
  }
  v128.store(out, a);
  v128.store(out, b, 16);
}

/**
 * For units [u0, u1) (unit = block * nHeadKv + kv head, a block being tb query tokens):
 * out[token][head] = softmax(scale * q.K^T) V over cache positions 0..pos0+token. q rows hold
 * nHead*headDim floats (qStride floats apart); the K and V caches hold, per position,
 * nHeadKv*headDim values (kvStride elements apart), f32 or f16 (kvF16). scratch: this thread's
 * nq * headDim (q) + CHUNK * headDim (converted rows) + nq * roundUp4(pos0 + nTok) (scores)
 * floats, nq = tb * nHead / nHeadKv (the kernels.ts caller sizes it). headDim must be a
 * multiple of 8.
 */
export function attention(
  q: usize,
  qStride: i32,
  k: usize,
  v: usize,
  kvF16: i32,
  kvStride: i32,
  out: usize,
  outStride: i32,
  scratch: usize,
  nHead: i32,
  nHeadKv: i32,
  headDim: i32,
  pos0: i32,
  scale: f32,
  nTok: i32,
  tb: i32,
  u0: i32,
  u1: i32,
): void {
  const group = nHead / nHeadKv;
  const es: usize = kvF16 ? 2 : 4;
  const rowBytes = (kvStride as usize) * es;
  const hb = (headDim as usize) << 2;
  const nq = tb * group;
  const scStride = (((pos0 + nTok + 3) & ~3) as usize) << 2;
  const qr = scratch;
  const conv = qr + (nq as usize) * hb;
  const sc = conv + (CHUNK as usize) * hb;
  for (let u = u0; u < u1; u++) {
    const blk = u / nHeadKv;
    const kvh = u - blk * nHeadKv;
    const t0 = blk * tb;
    const t1 = min(t0 + tb, nTok);
    const nKvMax = pos0 + t1;
    const kvOff = ((kvh * headDim) as usize) * es;
    // query i of the unit: token t0 + i / group, head kvh * group + i % group
    const nqHere = (t1 - t0) * group;
    // a lone query reads the halves directly; several share rows converted once into scratch
    const fused = kvF16 != 0 && nqHere == 1;
    const convert = kvF16 != 0 && !fused;
    for (let i = 0; i < nqHere; i++) {
      const t = t0 + i / group;
      const h = kvh * group + (i % group);
      const src = q + ((((t * qStride) + h * headDim) as usize) << 2);
      const dst = qr + (i as usize) * hb;
      if (fused) loneQuery(src, dst, hb);
      else if (kvF16) for (let d: usize = 0; d < hb; d += 16) v128.store(dst + d, roundToF16x4(v128.load(src + d)));
      else memory.copy(dst, src, hb);
    }
    for (let c = 0; c < nKvMax; c += CHUNK) {
      const n = min(CHUNK, nKvMax - c);
      let kp = k + (c as usize) * rowBytes + kvOff;
      let kStride = rowBytes;
      if (fused) {
        scoreRowsF16(qr, kp, kStride, n, headDim, sc + ((c as usize) << 2));
        continue;
      }
      if (convert) {
        convertRows(kp, rowBytes, n, headDim, conv);
        kp = conv;
        kStride = hb;
      }
      for (let i = 0; i < nqHere; i++) {
        const len = pos0 + t0 + i / group + 1;
        if (len > c) scoreRows(qr + (i as usize) * hb, kp, kStride, min(n, len - c), headDim, sc + (i as usize) * scStride + ((c as usize) << 2));
      }
    }
    for (let i = 0; i < nqHere; i++) {
      const len = pos0 + t0 + i / group + 1;
      const p = sc + (i as usize) * scStride;
      softmaxRow(p, len, scale);
      // (the row is padded to a multiple of four floats: the lanes past len are never read)
      if (fused) loneProbabilities(p, len);
      else if (kvF16) for (let j: usize = 0; j < (len as usize); j += 4) v128.store(p + (j << 2), roundToF16x4(v128.load(p + (j << 2))));
      const t = t0 + i / group;
      const h = kvh * group + (i % group);
      memory.fill(out + ((((t * outStride) + h * headDim) as usize) << 2), 0, hb);
    }
    for (let c = 0; c < nKvMax; c += CHUNK) {
      const n = min(CHUNK, nKvMax - c);
      let vp = v + (c as usize) * rowBytes + kvOff;
      let vStride = rowBytes;
      if (convert) {
        convertRows(vp, rowBytes, n, headDim, conv);
        vp = conv;
        vStride = hb;
      }
      for (let i = 0; i < nqHere; i++) {
        const len = pos0 + t0 + i / group + 1;
        if (len <= c) continue;
        const m = min(n, len - c);
        const p = sc + (i as usize) * scStride + ((c as usize) << 2);
        const t = t0 + i / group;
        const h = kvh * group + (i % group);
        const op = out + ((((t * outStride) + h * headDim) as usize) << 2);
        const es2: usize = fused ? 1 : 2; // log2 of the bytes per value in vp's rows
        let d = 0;
        for (; d + 16 <= headDim; d += 16) {
          const vd = vp + ((d as usize) << es2);
          const od = op + ((d as usize) << 2);
          if (fused) accumulate16F16(p, m, vd, vStride, od);
          else accumulate16(p, m, vd, vStride, od);
        }
        for (; d < headDim; d += 8) accumulate8(p, m, vp + ((d as usize) << es2), vStride, op + ((d as usize) << 2), fused);
      }
    }
    if (fused) loneOutput(out + ((((t0 * outStride) + kvh * group * headDim) as usize) << 2), hb);
  }
}

// The lone-query path's three conversions (see rawEven): the query and the probabilities
// rounded to half and scaled by 2^112, and the output's order restored.

/** hb bytes of query at src -> dst: halves scaled by 2^112, even then odd dimensions per eight. */
function loneQuery(src: usize, dst: usize, hb: usize): void {
  const big = f32x4.splat(RAW_SCALE);
  for (let d: usize = 0; d < hb; d += 32) {
    const lo = roundToF16x4(v128.load(src + d));
    const hi = roundToF16x4(v128.load(src + d, 16));
    v128.store(dst + d, f32x4.mul(v128.shuffle<f32>(lo, hi, 0, 2, 4, 6), big));
    v128.store(dst + d, f32x4.mul(v128.shuffle<f32>(lo, hi, 1, 3, 5, 7), big), 16);
  }
}

/** The len probabilities at p rounded to half and scaled by 2^112 (the row is padded to 4). */
function loneProbabilities(p: usize, len: i32): void {
  const big = f32x4.splat(RAW_SCALE);
  for (let j: usize = 0; j < (len as usize); j += 4) v128.store(p + (j << 2), f32x4.mul(roundToF16x4(v128.load(p + (j << 2))), big));
}

/** The lone query's output row (hb bytes at op) back from even-then-odd order per eight dimensions. */
function loneOutput(op: usize, hb: usize): void {
  for (let d: usize = 0; d < hb; d += 32) {
    const e = v128.load(op + d);
    const o = v128.load(op + d, 16);
    v128.store(op + d, v128.shuffle<f32>(e, o, 0, 4, 1, 5));
    v128.store(op + d, v128.shuffle<f32>(e, o, 2, 6, 3, 7), 16);
  }
}

/**
 * Cache positions attentionHeads reads for all its heads before moving on (4, 8, 16 and 32
 * measured: 4 was fastest from DRAM; the results are the same bits for any block).
 */
const HEADS_BLOCK = 4;

/**
 * One token's attention without GQA over an f16 cache (generation of a model whose heads each
 * have their own K and V), for heads [h0, h1) together: scores, softmax and output as the
 * lone-query path of `attention`, with the same operations per head and position in the same
 * order (the same result bits). The difference is the walk through the cache: `attention`
 * takes one head at a time, and each head reads its headDim halves of every cache row, rows
 * kvStride halves apart (8 KB on a 7B model), in 32 sweeps of scattered pieces. Here a block of
 * HEADS_BLOCK positions is read for every head of the range before the next block, so the rows
 * are read whole and in order, which memory serves much faster (7B shape, 512 positions, 32
 * layers' caches from DRAM: 1.26 -> 0.80 ms a layer on one thread, 0.68 -> 0.45 on two; 0.64 ->
 * 0.59 with one layer's cache in L3). q and out: the token's rows (nHead * headDim floats); len: the
 * positions to attend to; scratch: (h1 - h0) * (headDim + roundUp4(len)) floats of this thread.
 */
export function attentionHeads(
  q: usize,
  k: usize,
  v: usize,
  kvStride: i32,
  out: usize,
  scratch: usize,
  headDim: i32,
  len: i32,
  scale: f32,
  h0: i32,
  h1: i32,
): void {
  const rowBytes = (kvStride as usize) << 1;
  const hb = (headDim as usize) << 2;
  const hh = (headDim as usize) << 1; // one head's bytes in a cache row
  const nh = (h1 - h0) as usize;
  const scStride = (((len + 3) & ~3) as usize) << 2;
  const qs = scratch;
  const sc = qs + nh * hb;
  for (let i: usize = 0; i < nh; i++) loneQuery(q + ((h0 as usize) + i) * hb, qs + i * hb, hb);
  for (let j = 0; j < len; j += HEADS_BLOCK) {
    const n = min(HEADS_BLOCK, len - j);
    const kp = k + (j as usize) * rowBytes + (h0 as usize) * hh;
    for (let i: usize = 0; i < nh; i++) scoreRowsF16(qs + i * hb, kp + i * hh, rowBytes, n, headDim, sc + i * scStride + ((j as usize) << 2));
  }
  for (let i: usize = 0; i < nh; i++) {
    softmaxRow(sc + i * scStride, len, scale);
    loneProbabilities(sc + i * scStride, len);
    memory.fill(out + ((h0 as usize) + i) * hb, 0, hb);
  }
  for (let j = 0; j < len; j += HEADS_BLOCK) {
    const n = min(HEADS_BLOCK, len - j);
    const vp = v + (j as usize) * rowBytes + (h0 as usize) * hh;
    for (let i: usize = 0; i < nh; i++) {
      const p = sc + i * scStride + ((j as usize) << 2);
      const op = out + ((h0 as usize) + i) * hb;
      let d = 0;
      for (; d + 16 <= headDim; d += 16) accumulate16F16(p, n, vp + i * hh + ((d as usize) << 1), rowBytes, op + ((d as usize) << 2));
      for (; d < headDim; d += 8) accumulate8(p, n, vp + i * hh + ((d as usize) << 1), rowBytes, op + ((d as usize) << 2), true);
    }
  }
  for (let i: usize = 0; i < nh; i++) loneOutput(out + ((h0 as usize) + i) * hb, hb);
}

/** Store n floats of x into an f16 buffer (KV cache writes). */
export function storeF16(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = f32x4ToF16Bits(v128.load(x + ((i as usize) << 2)));
    const b = f32x4ToF16Bits(v128.load(x + ((i as usize) << 2), 16));
    v128.store(y + ((i as usize) << 1), i16x8.narrow_i32x4_u(a, b));
  }
  for (; i < n; i++) store<u16>(y + ((i as usize) << 1), f32ToF16(load<f32>(x + ((i as usize) << 2))) as u16);
}
