/**
 * A tiny GGUF byte builder independent of the package's writer, to craft broken files field by
 * field (lying counts, bad types, bad offsets) for the bad-input tests.
 */
export class Raw {
  private parts: number[] = [];
  get length(): number {
    return this.parts.length;
  }
  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i] & 0xff);
    return this;
  }
  u8(v: number): this {
    return this.bytes([v]);
  }
  u32(v: number): this {
    return this.bytes([v, v >>> 8, v >>> 16, v >>> 24]);
  }
  u64(v: number | bigint): this {
    const b = BigInt(v);
    for (let i = 0n; i < 8n; i++) this.parts.push(Number((b >> (8n * i)) & 0xffn));
    return this;
  }
  str(s: string | Uint8Array): this {
    const b = typeof s === "string" ? new TextEncoder().encode(s) : s;
    return this.u64(b.length).bytes(b);
  }
  header(version: number, tensors: number | bigint, kvs: number | bigint): this {
    return this.bytes([0x47, 0x47, 0x55, 0x46]).u32(version).u64(tensors).u64(kvs);
  }
  /** A u32 KV. */
  kvU32(key: string, value: number): this {
    return this.str(key).u32(4).u32(value);
  }
  tensor(name: string, shape: number[], type: number, offset: number | bigint): this {
    this.str(name).u32(shape.length);
    for (const d of shape) this.u64(d);
    return this.u32(type).u64(offset);
  }
  /** Pad with zeros to a multiple of `alignment`, then append `n` data bytes. */
  data(alignment: number, n: number): this {
    while (this.parts.length % alignment) this.parts.push(0);
    for (let i = 0; i < n; i++) this.parts.push(i & 0xff);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
