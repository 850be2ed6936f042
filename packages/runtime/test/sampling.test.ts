import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Mt19937, RuntimeError, Sampler, type SamplingOptions, StopMatcher } from "../src/index";

interface GoldenCase extends Omit<SamplingOptions, "logitBias"> {
  name: string;
  logitBias?: Record<string, number | "-inf">;
  tokens: number[];
}
const golden = JSON.parse(readFileSync(new URL("./golden/sampling.json", import.meta.url), "utf8")) as {
  steps: number;
  prompt: number[];
  rows: string[][];
  cases: GoldenCase[];
};
const rows = golden.rows.map((row) => {
  const view = new DataView(new ArrayBuffer(row.length * 4));
  for (const [i, hex] of row.entries()) view.setUint32(i * 4, Number.parseInt(hex, 16), true);
  return new Float32Array(view.buffer);
});

describe("Mt19937", () => {
  it("matches std::mt19937: the 10000th output of the default seed is 4123659995", () => {
    const rng = new Mt19937();
    let value = 0;
    for (let i = 0; i < 10000; i++) value = rng.nextU32();
    expect(value).toBe(4123659995);
  });

  it("first outputs for seed 5489 match the C++ reference", () => {
    const rng = new Mt19937(5489);
    expect([rng.nextU32(), rng.nextU32(), rng.nextU32()]).toEqual([3499211612, 581869302, 3890346734]);
  });

  it("generate_canonical gives doubles in [0, 1)", () => {
    const rng = new Mt19937(1);
    for (let i = 0; i < 1000; i++) {
      const u = rng.nextCanonical();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });
});

describe("Sampler against llama.cpp's sampler chain (golden from libllama)", () => {
  for (const c of golden.cases) {
    it(`${c.name}: the same ${golden.steps} tokens`, () => {
      const logitBias = c.logitBias
        ? Object.fromEntries(
            Object.entries(c.logitBias).map(([k, v]) => [k, v === "-inf" ? Number.NEGATIVE_INFINITY : v]),
          )
        : undefined;
      const sampler = new Sampler({ ...c, logitBias });
      for (const token of golden.prompt) sampler.accept(token);
      const picked: number[] = [];
      for (let step = 0; step < golden.steps; step++) {
        const token = sampler.sample(rows[step % rows.length]!);
        sampler.accept(token);
        picked.push(token);
      }
      expect(picked).toEqual(c.tokens);
    });
  }

  it("reset() reseeds and forgets the history", () => {
    const sampler = new Sampler({ seed: 9, temperature: 1 });
    const first = [0, 1, 2].map((i) => sampler.sample(rows[i]!));
    sampler.reset();
    expect([0, 1, 2].map((i) => sampler.sample(rows[i]!))).toEqual(first);
  });
});

describe("Sampler behaviour", () => {
  const logits = new Float32Array([1, 5, 3, 5.5, -2]);
  it("greedy picks the largest logit, after penalties", () => {
    const sampler = new Sampler({ temperature: 0, repeatPenalty: 2, repeatLastN: 4 });
    expect(sampler.sample(logits)).toBe(3);
    sampler.accept(3); // 5.5 / 2 = 2.75 now loses to 5
    expect(sampler.sample(logits)).toBe(1);
  });

  it("the penalty window slides over the last N tokens", () => {
    const sampler = new Sampler({ temperature: 0, repeatPenalty: 2, repeatLastN: 2 });
    sampler.accept(3);
    sampler.accept(0);
    sampler.accept(0);
    expect(sampler.sample(logits)).toBe(3);
  });

  it("logit bias can ban a token", () => {
    const sampler = new Sampler({ temperature: 0, logitBias: { 3: Number.NEGATIVE_INFINITY } });
    expect(sampler.sample(logits)).toBe(1);
  });

  it("top-k 1 is deterministic whatever the seed", () => {
    for (let seed = 0; seed < 20; seed++) {
      expect(new Sampler({ seed, topK: 1, temperature: 5 }).sample(logits)).toBe(3);
    }
  });

  it("the same seed gives the same tokens; frequencies follow the softmax", () => {
    const a = new Sampler({ seed: 123, temperature: 1, topK: 0, topP: 1, minP: 0 });
    const b = new Sampler({ seed: 123, temperature: 1, topK: 0, topP: 1, minP: 0 });
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 4000; i++) {
      const t = a.sample(logits);
      expect(b.sample(logits)).toBe(t);
      counts[t]++;
    }
    const z = [...logits].reduce((s, x) => s + Math.exp(x), 0);
    for (const [i, n] of counts.entries()) expect(n / 4000).toBeCloseTo(Math.exp(logits[i]!) / z, 1);
  });

  it("rejects bad options with a typed error", () => {
    expect(() => new Sampler({ temperature: Number.NaN })).toThrow(RuntimeError);
    expect(() => new Sampler({ repeatLastN: -5 })).toThrow(/repeatLastN/);
  });
});

describe("StopMatcher", () => {
  it("holds back a possible stop string and cuts at the first match", () => {
    const m = new StopMatcher(["###", "User:"]);
    expect(m.push("Hello #")).toBe("Hello ");
    expect(m.push("# a")).toBe("## a");
    expect(m.push(" Us")).toBe(" ");
    expect(m.push("er: more")).toBe("");
    expect(m.stopped).toBe(true);
    expect(m.matched).toBe("User:");
    expect(m.flush()).toBe("");
  });

  it("flushes held text when generation ends without a match", () => {
    const m = new StopMatcher(["</s>"]);
    expect(m.push("a </")).toBe("a ");
    expect(m.flush()).toBe("</");
  });
});
