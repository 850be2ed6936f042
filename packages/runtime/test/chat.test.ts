import { describe, expect, it } from "vitest";
import {
  ALPACA2_SYSTEM,
  alpacaTemplate,
  chatmlTemplate,
  jinjaTemplate,
  llama2Template,
  loadModel,
  RuntimeError,
  resolveTemplate,
} from "../src/index";
import { synthModelBytes } from "./helpers";

describe("chat templates", () => {
  it("Chinese-Alpaca v1", () => {
    expect(alpacaTemplate.render([{ role: "user", content: "你好" }], true)).toBe(
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n\n你好\n\n### Response:\n\n",
    );
  });

  it("Chinese-Alpaca-2 (Llama-2 [INST]) with the system prompt in the first turn only", () => {
    const text = llama2Template.render(
      [
        { role: "system", content: ALPACA2_SYSTEM },
        { role: "user", content: "q1" },
        { role: "assistant", content: "a1" },
        { role: "user", content: "q2" },
      ],
      true,
    );
    expect(text).toBe(
      `<s>[INST] <<SYS>>\n${ALPACA2_SYSTEM}\n<</SYS>>\n\nq1 [/INST] a1</s><s>[INST] q2 [/INST]`,
    );
  });

  it("ChatML", () => {
    expect(chatmlTemplate.render([{ role: "user", content: "hi" }], true)).toBe(
      "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    );
  });

  it("a GGUF's own Jinja template, and precedence of tokenizer.chat_template in auto", () => {
    const source =
      "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
    const t = resolveTemplate("auto", { chatTemplate: source, vocabSize: 32000 });
    expect(t.render([{ role: "user", content: "x" }], true)).toBe("<s><user>x</user><assistant>");
    expect(resolveTemplate("auto", { vocabSize: 55296 }).name).toBe("llama2");
    expect(resolveTemplate("auto", { vocabSize: 49954 }).name).toBe("alpaca");
    expect(() => jinjaTemplate("{% for %}")).toThrow(RuntimeError);
    expect(() => resolveTemplate("nope" as "alpaca", { vocabSize: 1 })).toThrow(/unknown chat template/);
  });
});

describe("ChatSession", () => {
  it("multi-turn: the history is not evaluated again", async () => {
    const model = await loadModel(await synthModelBytes({ preset: "tiny", seed: 11 }), { contextSize: 512 });
    const session = model.createSession({ template: "chatml", sampling: { temperature: 0 }, maxTokens: 12 });
    const chunks: string[] = [];
    const first = await session.send("hello there", { onText: (c) => chunks.push(c) });
    expect(first.tokens.length).toBeGreaterThan(0);
    expect(chunks.join("").trim()).toBe(first.text);
    const firstPrompt = model.tokenizer.encode(
      chatmlTemplate.render([{ role: "user", content: "hello there" }], true),
      {
        bos: true,
      },
    );
    const second = await session.send("and again");
    // The first turn's prompt stays in the cache: only the reply's re-tokenized end and the new turn are evaluated.
    const full = model.tokenizer.encode(chatmlTemplate.render(session.history.slice(0, 3), true), {
      bos: true,
    });
    expect(second.promptTokensEvaluated).toBeLessThanOrEqual(full.length - firstPrompt.length + 1);
    expect(session.history.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    session.reset();
    expect(session.contextUsed).toBe(0);
    expect(session.history).toHaveLength(0);
    await model.dispose();
  });

  it("restore() resumes a saved conversation; setSampling() and setSystem(keep) keep it", async () => {
    const model = await loadModel(await synthModelBytes({ preset: "tiny", seed: 12 }), { contextSize: 512 });
    const greedy = { template: "chatml" as const, sampling: { temperature: 0 }, maxTokens: 8 };
    const original = model.createSession(greedy);
    await original.send("first question");
    await original.send("second question");
    const third = await original.send("third question");

    // A new session restored from the first two turns answers the third exactly as the original did.
    const restored = model.createSession({ ...greedy, sampling: { temperature: 1.5, seed: 3 } });
    restored.setSampling({ temperature: 0 });
    restored.restore(original.history.slice(0, 4));
    expect(restored.contextUsed).toBe(0); // nothing evaluated before the next send
    const again = await restored.send("third question");
    expect(again.text).toBe(third.text);
    expect(again.tokens).toEqual(third.tokens);
    expect(restored.history).toEqual(original.history);

    // Restoring the same turns again reuses the cache: only the tail is evaluated.
    restored.restore(original.history.slice(0, 4));
    const cached = await restored.send("third question");
    expect(cached.promptTokensEvaluated).toBeLessThan(again.promptTokensEvaluated / 2);

    restored.setSystem("be brief", { keepConversation: true });
    expect(restored.history.map((m) => m.role)).toEqual([
      "system",
      ...["user", "assistant", "user", "assistant", "user", "assistant"],
    ]);
    restored.setSystem(undefined);
    expect(restored.history).toHaveLength(0);

    expect(() =>
      restored.restore([
        { role: "user", content: "a" },
        { role: "system", content: "late" },
      ]),
    ).toThrow(/message 1 has role "system"/);

    // While a reply is being generated, the conversation is not to be replaced under it.
    const pending = restored.send("fourth question");
    expect(() => restored.restore(original.history.slice(0, 2))).toThrow(/restore\(\) called while a reply/);
    expect(() => restored.setSystem("x")).toThrow(/setSystem\(\) called while a reply/);
    await pending;
    expect(restored.history.at(-2)).toEqual({ role: "user", content: "fourth question" });
    restored.restore(original.history.slice(0, 2));
    expect(restored.history).toHaveLength(2);
    await model.dispose();
  });
});
