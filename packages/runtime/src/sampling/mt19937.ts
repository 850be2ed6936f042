/**
 * std::mt19937 (32-bit Mersenne Twister, C++11 parameters) and libstdc++'s
 * `generate_canonical<double, 53>`, so a seed gives the same random stream as llama.cpp's
 * `llama_sampler_init_dist(seed)`.
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  constructor(seed = 5489) {
    this.seed(seed);
  }

  seed(seed: number): void {
    const mt = this.state;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev + i in uint32 arithmetic (Math.imul keeps the low 32 bits).
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = N;
  }

  private twist(): void {
    const mt = this.state;
    for (let i = 0; i < N; i++) {
      const y = (mt[i]! & UPPER) | (mt[(i + 1) % N]! & LOWER);
      mt[i] = mt[(i + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }

  /** Next 32-bit output, as `std::mt19937::operator()`. */
  nextU32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * A double in [0, 1) built from two outputs exactly as libstdc++'s generate_canonical does for a
   * 32-bit engine: (u1 + u2 * 2^32) / 2^64, clamped below 1. This is also what
   * `std::uniform_real_distribution<double>(0, 1)` returns.
   */
  nextCanonical(): number {
    const u1 = this.nextU32();
    const u2 = this.nextU32();
    const sum = u1 + u2 * 4294967296;
    const value = sum / 2 ** 64;
    return value >= 1 ? 1 - 2 ** -53 : value;
  }
}
