import { resolve } from "node:path";
import { Box, Static, Text, useApp, useInput, useStdout } from "ink";
import { useCallback, useEffect, useRef, useState } from "react";
import { type ChatCommand, helpText, parseInput } from "./commands";
import { Header } from "./components/Header";
import { InputBox } from "./components/InputBox";
import { LoadProgress } from "./components/LoadProgress";
import { type ChatMessage, MessageView } from "./components/Transcript";
import { loadConversation, saveConversation } from "./conversation";
import type { ChatModel, ChatSampling, ChatSession, ChatTurn, LoadModel } from "./engine";
import { type EditorKey, editorInput, emptyEditor } from "./input-editor";

export interface ChatAppProps {
  load: LoadModel;
  /** What the loading line calls the model (usually the file name). */
  modelLabel: string;
  /** "auto" or a template name; passed to the session. */
  template?: string;
  system?: string;
  sampling?: ChatSampling;
  /** Folder /save and /load resolve relative paths against (default: process.cwd()). */
  cwd?: string;
  /** Called when the user quits (/exit, Ctrl-D, Ctrl-C on an empty line), before Ink exits. */
  onExit?: () => void;
}

type Phase = { kind: "loading"; done: number; total: number } | { kind: "ready" };

interface Stats {
  answers: number;
  tokens: number;
  seconds: number;
  lastTokensPerSecond?: number;
}

/** A transcript entry with the id <Static> needs: entries are printed once, never redrawn. */
type LogEntry = ChatMessage & { id: number };

/**
 * The terminal chat. Finished messages go to <Static> (printed once into the scrollback, so a
 * long conversation costs nothing to redraw); the live area below holds the answer being
 * streamed, the header and the prompt.
 */
export function ChatApp(props: ChatAppProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const columns = Math.max(20, stdout?.columns ?? 80);

  const [phase, setPhase] = useState<Phase>({ kind: "loading", done: 0, total: 0 });
  const modelRef = useRef<ChatModel | null>(null);
  const sessionRef = useRef<ChatSession | null>(null);
  const [log, setLog] = useState<LogEntry[]>([]);
  const nextId = useRef(0);
  const [turns, setTurns] = useState<ChatTurn[]>([]);
  const [streaming, setStreaming] = useState<string | null>(null);
  const [editor, setEditor] = useState(emptyEditor());
  const editorRef = useRef(editor);
  const abortRef = useRef<AbortController | null>(null);
  const [contextUsed, setContextUsed] = useState(0);
  const [stats, setStats] = useState<Stats>({ answers: 0, tokens: 0, seconds: 0 });
  const [system, setSystemText] = useState(props.system ?? "");
  const [sampling, setSampling] = useState<ChatSampling>(props.sampling ?? {});
  const busy = streaming !== null;

  const append = useCallback((...messages: ChatMessage[]) => {
    setLog((old) => [...old, ...messages.map((m) => ({ ...m, id: nextId.current++ }))]);
  }, []);
  const notice = useCallback(
    (text: string, error = false) => append({ role: "notice", text, error }),
    [append],
  );

  // Quitting first renders the transcript alone, so the prompt and header do not stay behind in
  // the terminal; then Ink exits.
  const [closing, setClosing] = useState<{ error?: Error } | null>(null);
  const quit = useCallback(
    (error?: Error) => {
      abortRef.current?.abort();
      if (!error) props.onExit?.();
      setClosing({ error });
    },
    [props.onExit],
  );
  useEffect(() => {
    if (!closing) return;
    // Free the model (its worker threads) before Ink lets the process end.
    Promise.resolve(modelRef.current?.dispose?.()).catch(() => {});
    exit(closing.error);
  }, [closing, exit]);

  // Load once, then open the session.
  // biome-ignore lint/correctness/useExhaustiveDependencies: load exactly once; the first render's props decide
  useEffect(() => {
    let cancelled = false;
    props
      .load((done, total) => {
        if (!cancelled) setPhase({ kind: "loading", done, total });
      })
      .then((model) => {
        if (cancelled) return;
        modelRef.current = model;
        sessionRef.current = model.createSession({
          template: props.template,
          system: props.system,
          sampling: props.sampling,
        });
        setContextUsed(sessionRef.current.contextUsed);
        setPhase({ kind: "ready" });
        notice(
          `cllama chat · ${model.name} · template ${resolvedTemplate(props.template, model)} · /help for commands`,
        );
      })
      .catch((error: unknown) => {
        if (!cancelled) quit(error instanceof Error ? error : new Error(String(error)));
      });
    return () => {
      cancelled = true;
    };
  }, []);

  const send = useCallback(
    async (text: string) => {
      const session = sessionRef.current!;
      const controller = new AbortController();
      abortRef.current = controller;
      append({ role: "user", text });
      let sofar = "";
      setStreaming("");
      let stopped = false;
      let stopReason: string | undefined;
      let failed: Error | undefined;
      try {
        const result = await session.send(text, {
          signal: controller.signal,
          onText: (chunk) => {
            sofar += chunk;
            setStreaming(sofar);
          },
        });
        stopReason = result.stopReason;
        stopped = result.stopReason === "aborted" || controller.signal.aborted;
        sofar = result.text || sofar;
        setStats((s) => ({
          answers: s.answers + 1,
          tokens: s.tokens + result.tokens,
          seconds: s.seconds + (result.tokensPerSecond > 0 ? result.tokens / result.tokensPerSecond : 0),
          lastTokensPerSecond: result.tokensPerSecond,
        }));
      } catch (error) {
        if (controller.signal.aborted) stopped = true;
        else failed = error instanceof Error ? error : new Error(String(error));
      }
      abortRef.current = null;
      setStreaming(null);
      setContextUsed(session.contextUsed);
      if (failed && !sofar) {
        const hint = (failed as { hint?: string }).hint;
        notice(`error: ${failed.message}${hint ? `\nhint: ${hint}` : ""}`, true);
        return;
      }
      append({ role: "assistant", text: sofar, stopped });
      setTurns((old) => [...old, { role: "user", text }, { role: "assistant", text: sofar }]);
      if (stopReason === "context")
        notice(
          `the context is full (${session.contextUsed} tokens): /reset starts a new conversation, or save it first with /save`,
          true,
        );
      if (failed) notice(`error: ${failed.message}`, true);
    },
    [append, notice],
  );

  const runCommand = useCallback(
    async (command: ChatCommand) => {
      const session = sessionRef.current!;
      const model = modelRef.current!;
      const cwd = props.cwd ?? process.cwd();
      switch (command.name) {
        case "help":
          return notice(helpText);
        case "exit":
          return quit();
        case "reset":
          session.reset();
          setTurns([]);
          setContextUsed(session.contextUsed);
          return notice("— new conversation —");
        case "system":
          if (!command.text) return notice(system ? `system prompt: ${system}` : "no system prompt");
          session.setSystem(command.text);
          setSystemText(command.text);
          setContextUsed(session.contextUsed);
          return notice(`system prompt set: ${command.text}`);
        case "temp":
          if (command.temperature === undefined)
            return notice(`temperature ${sampling.temperature ?? "(the model's default)"}`);
          session.setSampling({ temperature: command.temperature });
          setSampling((s) => ({ ...s, temperature: command.temperature }));
          return notice(
            `temperature ${command.temperature}${command.temperature === 0 ? " (greedy)" : ""} from the next answer`,
          );
        case "stats": {
          const average = stats.seconds > 0 ? stats.tokens / stats.seconds : undefined;
          const size = model.contextSize;
          return notice(
            [
              `answers ${stats.answers} · tokens generated ${stats.tokens}`,
              `speed: last ${fmt(stats.lastTokensPerSecond)} tok/s · average ${fmt(average)} tok/s`,
              `context ${session.contextUsed}/${size} (${Math.round((session.contextUsed / size) * 100)}%)`,
              `model ${model.name} · ${model.quantization} · template ${resolvedTemplate(props.template, model)} · temperature ${sampling.temperature ?? "default"}`,
            ].join("\n"),
          );
        }
        case "save": {
          const path = resolve(cwd, command.file);
          await saveConversation(path, {
            model: model.name,
            template: resolvedTemplate(props.template, model),
            system: system || undefined,
            sampling,
            messages: turns,
          });
          return notice(`saved ${turns.length} messages to ${command.file}`);
        }
        case "load": {
          const saved = await loadConversation(resolve(cwd, command.file));
          if (saved.system !== undefined) {
            session.setSystem(saved.system);
            setSystemText(saved.system);
          }
          if (saved.sampling) {
            session.setSampling(saved.sampling);
            setSampling((s) => ({ ...s, ...saved.sampling }));
          }
          await session.restore(saved.messages);
          setTurns(saved.messages);
          setContextUsed(session.contextUsed);
          notice(`— loaded ${saved.messages.length} messages from ${command.file} —`);
          return append(...saved.messages);
        }
      }
    },
    [append, notice, quit, props.cwd, props.template, sampling, stats, system, turns],
  );

  const submit = useCallback(
    (raw: string) => {
      const parsed = parseInput(raw);
      if (parsed.kind === "empty") return;
      if (parsed.kind === "invalid") return notice(parsed.error, true);
      if (parsed.kind === "message") return void send(parsed.text);
      runCommand(parsed.command).catch((error: unknown) => {
        const e = error as Error & { hint?: string };
        notice(`error: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ""}`, true);
      });
    },
    [notice, runCommand, send],
  );

  useInput((input, key) => {
    if (key.ctrl && input === "c") {
      // Ctrl-C: stop the answer; else clear the line; on an empty line, quit.
      if (abortRef.current) abortRef.current.abort();
      else if (editorRef.current.text) updateEditor(emptyEditor(editorRef.current.history));
      else quit();
      return;
    }
    if (key.ctrl && input === "d") return quit();
    if (phase.kind !== "ready") return;
    const { state, submitted } = editorInput(editorRef.current, input, key as EditorKey);
    if (submitted !== undefined && abortRef.current) return; // Enter while answering: keep typing
    updateEditor(state);
    if (submitted !== undefined) submit(submitted);
  });

  // The editor state lives in a ref too: several key events can arrive before React re-renders
  // (typed-ahead text, a paste split into events), and each must build on the previous one.
  function updateEditor(state: typeof editor) {
    editorRef.current = state;
    setEditor(state);
  }

  const model = modelRef.current;
  // <Static> stays at the same place in the tree in every phase: a new one would print the
  // whole transcript again.
  return (
    <Box flexDirection="column">
      <Static items={log}>
        {(entry) => <MessageView key={entry.id} message={entry} columns={columns} />}
      </Static>
      {closing ? null : phase.kind === "loading" || !model ? (
        <LoadProgress
          label={props.modelLabel}
          done={phase.kind === "loading" ? phase.done : 0}
          total={phase.kind === "loading" ? phase.total : 0}
        />
      ) : (
        <Box flexDirection="column">
          {streaming !== null ? (
            <MessageView message={{ role: "assistant", text: streaming }} columns={columns} />
          ) : null}
          <Box marginTop={streaming === null ? 0 : 1}>
            <Header
              model={model.name}
              quantization={model.quantization}
              contextUsed={contextUsed}
              contextSize={model.contextSize}
              tokensPerSecond={stats.lastTokensPerSecond}
              busy={busy}
            />
          </Box>
          <InputBox editor={editor} busy={busy} />
          {/* Keeps the cursor line off the terminal's last row, where some terminals scroll. */}
          <Text> </Text>
        </Box>
      )}
    </Box>
  );
}

function resolvedTemplate(asked: string | undefined, model: ChatModel): string {
  return !asked || asked === "auto" ? model.template : asked;
}

function fmt(value: number | undefined): string {
  return value === undefined ? "–" : value.toFixed(1);
}
