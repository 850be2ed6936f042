/**
 * The prompt's text editor as a pure state machine: the Ink component feeds it key events, tests
 * feed it directly. Multi-line: Alt-Enter / Shift-Enter (terminals that report it) / Ctrl-J, a
 * backslash before Enter, or a paste insert a newline; Enter alone submits.
 */

export interface EditorState {
  text: string;
  /** Cursor position in code points (a Chinese character is one step). */
  cursor: number;
  /** Earlier submissions, oldest first, and where ↑/↓ browsing stands (-1: not browsing). */
  history: string[];
  historyIndex: number;
  /** Inside a bracketed paste (\e[200~ ... \e[201~): Enter is a newline there. */
  pasting: boolean;
}

export const emptyEditor = (history: string[] = []): EditorState => ({
  text: "",
  cursor: 0,
  history,
  historyIndex: -1,
  pasting: false,
});

/** The subset of Ink's `Key` the editor reads. */
export interface EditorKey {
  return?: boolean;
  shift?: boolean;
  meta?: boolean;
  ctrl?: boolean;
  backspace?: boolean;
  delete?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  upArrow?: boolean;
  downArrow?: boolean;
  home?: boolean;
  end?: boolean;
  tab?: boolean;
  escape?: boolean;
}

export interface EditorResult {
  state: EditorState;
  /** Set when the user pressed Enter: the text to submit (the editor is already cleared). */
  submitted?: string;
}

const chars = (text: string) => Array.from(text);

function insert(state: EditorState, text: string): EditorState {
  const list = chars(state.text);
  const added = chars(text.replace(/\r\n?/g, "\n").replace(/\t/g, "  "));
  list.splice(state.cursor, 0, ...added);
  return { ...state, text: list.join(""), cursor: state.cursor + added.length, historyIndex: -1 };
}

function submit(state: EditorState): EditorResult {
  const text = state.text;
  const history =
    text.trim() && state.history.at(-1) !== text ? [...state.history, text].slice(-100) : state.history;
  return { state: emptyEditor(history), submitted: text };
}

export function editorInput(state: EditorState, input: string, key: EditorKey): EditorResult {
  // Bracketed paste markers arrive as their own events ("[200~" once Ink strips the ESC).
  if (input === "[200~") return { state: { ...state, pasting: true } };
  if (input === "[201~") return { state: { ...state, pasting: false } };
  if (state.pasting) return { state: insert(state, key.return ? "\n" : input) };

  if (key.return) {
    if (key.meta || key.shift) return { state: insert(state, "\n") };
    const list = chars(state.text);
    // "\" then Enter: a newline that works in every terminal.
    if (state.cursor > 0 && list[state.cursor - 1] === "\\") {
      list.splice(state.cursor - 1, 1, "\n");
      return { state: { ...state, text: list.join("") } };
    }
    return submit(state);
  }
  if (input === "\n") return { state: insert(state, "\n") }; // Ctrl-J, or LF from some terminals
  if (key.backspace || key.delete) {
    if (state.cursor === 0) return { state };
    const list = chars(state.text);
    list.splice(state.cursor - 1, 1);
    return { state: { ...state, text: list.join(""), cursor: state.cursor - 1 } };
  }
  if (key.leftArrow) return { state: { ...state, cursor: Math.max(0, state.cursor - 1) } };
  if (key.rightArrow)
    return { state: { ...state, cursor: Math.min(chars(state.text).length, state.cursor + 1) } };
  if (key.home || (key.ctrl && input === "a")) return { state: { ...state, cursor: lineStart(state) } };
  if (key.end || (key.ctrl && input === "e")) return { state: { ...state, cursor: lineEnd(state) } };
  if (key.ctrl && input === "u") return { state: { ...state, text: "", cursor: 0 } };
  if (key.upArrow || key.downArrow) return { state: browseHistory(state, key.upArrow ? -1 : 1) };
  if (key.ctrl || key.escape || key.tab || (key.meta && !input)) return { state };
  if (!input) return { state };

  // A chunk with Enter inside is typed-ahead text or a paste from a terminal without bracketed
  // paste: Enter at the very end submits ("你好" + Enter sent at once), Enters inside are newlines.
  const normalised = input.replace(/\r\n?/g, "\r");
  if (normalised.endsWith("\r") && !normalised.slice(0, -1).includes("\r"))
    return submit(insert(state, normalised.slice(0, -1)));
  return { state: insert(state, normalised) };
}

function lineStart(state: EditorState): number {
  const list = chars(state.text);
  let i = state.cursor;
  while (i > 0 && list[i - 1] !== "\n") i--;
  return i;
}

function lineEnd(state: EditorState): number {
  const list = chars(state.text);
  let i = state.cursor;
  while (i < list.length && list[i] !== "\n") i++;
  return i;
}

function browseHistory(state: EditorState, step: -1 | 1): EditorState {
  if (state.history.length === 0) return state;
  let index =
    state.historyIndex === -1 ? (step === -1 ? state.history.length - 1 : -1) : state.historyIndex + step;
  if (index < 0 && step === -1) index = 0;
  if (index >= state.history.length || index < 0) return { ...state, text: "", cursor: 0, historyIndex: -1 };
  const text = state.history[index]!;
  return { ...state, text, cursor: chars(text).length, historyIndex: index };
}

/** The text split into lines, with the cursor's line and column (in code points). */
export function editorLines(state: EditorState): { lines: string[]; row: number; column: number } {
  const lines = state.text.split("\n");
  let remaining = state.cursor;
  for (let row = 0; row < lines.length; row++) {
    const length = chars(lines[row]!).length;
    if (remaining <= length) return { lines, row, column: remaining };
    remaining -= length + 1;
  }
  return { lines, row: lines.length - 1, column: chars(lines.at(-1)!).length };
}
