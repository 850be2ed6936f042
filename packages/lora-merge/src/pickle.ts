/**
 * A pickle reader that executes nothing. It understands the opcodes `torch.save` emits and
 * resolves only the globals of an allow-list to inert markers; every other global (os.system,
 * builtins.eval, any class a `__reduce__` trick names) and every object-building opcode outside
 * that set is refused with LORA_PICKLE_FORBIDDEN_*, before anything could happen.
 */
import { fail } from "./errors";

export interface PickleGlobal {
  kind: "global";
  module: string;
  name: string;
}
export interface PickleStorage {
  kind: "storage";
  /** e.g. "HalfStorage" */
  storageType: string;
  key: string;
  numel: number;
}
export interface PickleTensor {
  kind: "tensor";
  storage: PickleStorage;
  offset: number;
  size: number[];
  stride: number[];
}
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | PickleGlobal
  | PickleStorage
  | PickleTensor
  | { kind: "tuple"; items: PickleValue[] };

const STORAGE_TYPES = new Set([
  "FloatStorage",
  "HalfStorage",
  "BFloat16Storage",
  "DoubleStorage",
  "LongStorage",
  "IntStorage",
  "ShortStorage",
  "CharStorage",
  "ByteStorage",
  "BoolStorage",
]);

/** The whole allow-list (SPEC-NOTES §4). */
export function isAllowedGlobal(module: string, name: string): boolean {
  if (module === "collections" && name === "OrderedDict") return true;
  if (module === "torch._utils" && (name === "_rebuild_tensor_v2" || name === "_rebuild_parameter"))
    return true;
  return module === "torch" && STORAGE_TYPES.has(name);
}

const MAX_PICKLE_BYTES = 256 * 1024 * 1024;

class Mark {}
const MARK = new Mark();

/** Interpret a pickle of a (nested) state dict; `file` names it in errors. */
export function readPickle(bytes: Uint8Array, file: string): PickleValue {
  const bad = (what: string): never =>
    fail(
      "LORA_BAD_PICKLE",
      `${file}: ${what}`,
      "the checkpoint's data.pkl is corrupt or not a torch.save pickle",
    );
  if (bytes.byteLength > MAX_PICKLE_BYTES) bad(`pickle of ${bytes.byteLength} bytes is implausibly large`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: (PickleValue | Mark)[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.byteLength) bad(`truncated at byte ${pos} (needs ${n} more)`);
  };
  const u8 = () => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = () => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.byteLength)) bad(`length ${v} at byte ${pos - 8} exceeds the pickle`);
    return Number(v);
  };
  const take = (n: number) => {
    need(n);
    const v = bytes.subarray(pos, pos + n);
    pos += n;
    return v;
  };
  const utf8 = (n: number) => new TextDecoder().decode(take(n));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) bad(`unterminated line at byte ${pos}`);
    const s = new TextDecoder().decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v instanceof Mark) return bad(`stack underflow at byte ${pos}`);
    return v;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v instanceof Mark) return bad(`empty stack at byte ${pos}`);
    return v;
  };
  const popMark = (): PickleValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) bad(`no MARK on the stack at byte ${pos}`);
    return stack.splice(i).slice(1) as PickleValue[];
  };
  const global = (module: string, name: string): PickleGlobal => {
    if (!isAllowedGlobal(module, name)) {
      fail(
        "LORA_PICKLE_FORBIDDEN_GLOBAL",
        `${file}: the pickle references ${module}.${name}, which is not on the allow-list of a weights file (nothing was executed)`,
        "this file may try to run code when loaded: do not open it with torch.load either; get the weights from a trusted source or as safetensors",
      );
    }
    return { kind: "global", module, name };
  };
  const signedLE = (b: Uint8Array): number => {
    let v = 0n;
    for (let i = b.byteLength - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b.byteLength && b[b.byteLength - 1]! & 0x80) v -= 1n << BigInt(8 * b.byteLength);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
      bad(`integer ${v} too large`);
    return Number(v);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        pos += 8;
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push({ kind: "tuple", items: [] });
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(dv.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(signedLE(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(signedLE(take(u32())));
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(u64()));
        break;
      case 0x54: // BINSTRING
        stack.push(utf8(u32()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(utf8(u8()));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()));
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()));
        break;
      case 0x74: // TUPLE
        stack.push({ kind: "tuple", items: popMark() });
        break;
      case 0x85: // TUPLE1
        stack.push({ kind: "tuple", items: [pop()] });
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push({ kind: "tuple", items: [pop(), b] });
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push({ kind: "tuple", items: [pop(), b, c] });
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        asList(top(), at, bad).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        asList(top(), at, bad).push(...items);
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        const map = new Map<PickleValue, PickleValue>();
        for (let i = 0; i + 1 < items.length; i += 2) map.set(items[i]!, items[i + 1]!);
        stack.push(map);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        asMap(top(), at, bad).set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const map = asMap(top(), at, bad);
        for (let i = 0; i + 1 < items.length; i += 2) map.set(items[i]!, items[i + 1]!);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) bad(`memo ${key} is not set (byte ${at})`);
        stack.push(memo.get(key)!);
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string")
          bad(`STACK_GLOBAL without strings at byte ${at}`);
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x51: {
        // BINPERSID
        stack.push(persistentStorage(pop(), file, bad));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(reduce(callable, args, file, at, bad));
        break;
      }
      case 0x62: {
        // BUILD: only the empty state torch attaches to an OrderedDict or a tensor
        const state = pop();
        top();
        if (!(state === null || (state instanceof Map && state.size === 0))) {
          fail(
            "LORA_PICKLE_FORBIDDEN_OPCODE",
            `${file}: BUILD with object state at byte ${at} is not part of a weights file (nothing was executed)`,
          );
        }
        break;
      }
      default:
        fail(
          "LORA_PICKLE_FORBIDDEN_OPCODE",
          `${file}: pickle opcode 0x${op.toString(16).padStart(2, "0")} (${JSON.stringify(String.fromCharCode(op))}) at byte ${at} is not allowed in a weights file (nothing was executed)`,
          "the file is not a plain torch.save state dict; it may try to run code when loaded",
        );
    }
  }
}

function asList(v: PickleValue, at: number, bad: (w: string) => never): PickleValue[] {
  if (!Array.isArray(v)) bad(`APPEND to a non-list at byte ${at}`);
  return v as PickleValue[];
}

function asMap(v: PickleValue, at: number, bad: (w: string) => never): Map<PickleValue, PickleValue> {
  if (!(v instanceof Map)) bad(`SETITEM on a non-dict at byte ${at}`);
  return v as Map<PickleValue, PickleValue>;
}

function tupleItems(v: PickleValue): PickleValue[] | undefined {
  if (v && typeof v === "object" && "kind" in v && v.kind === "tuple") return v.items;
  return undefined;
}

function isGlobal(v: PickleValue): v is PickleGlobal {
  return !!v && typeof v === "object" && "kind" in v && v.kind === "global";
}

function persistentStorage(pid: PickleValue, file: string, bad: (w: string) => never): PickleStorage {
  const items = tupleItems(pid);
  if (items?.[0] !== "storage" || items.length < 5) return bad("persistent id is not a torch storage");
  const [, type, key, , count] = items;
  if (!isGlobal(type!) || typeof key !== "string" || typeof count !== "number" || count < 0) {
    return bad(`malformed storage persistent id in ${file}`);
  }
  return { kind: "storage", storageType: type.name, key, numel: count };
}

function reduce(
  callable: PickleValue,
  args: PickleValue,
  file: string,
  at: number,
  bad: (w: string) => never,
): PickleValue {
  const items = tupleItems(args);
  if (!isGlobal(callable) || !items) return bad(`REDUCE of a non-global at byte ${at}`);
  const fn = `${callable.module}.${callable.name}`;
  if (fn === "collections.OrderedDict") return new Map();
  if (fn === "torch._utils._rebuild_parameter") {
    return items[0] ?? bad(`_rebuild_parameter without data at byte ${at}`);
  }
  if (fn === "torch._utils._rebuild_tensor_v2") {
    const [storage, offset, size, stride] = items;
    const sizes = tupleItems(size!);
    const strides = tupleItems(stride!);
    if (
      !storage ||
      typeof storage !== "object" ||
      !("kind" in storage) ||
      storage.kind !== "storage" ||
      typeof offset !== "number" ||
      !sizes?.every((d) => typeof d === "number" && d >= 0) ||
      !strides?.every((d) => typeof d === "number" && d >= 0) ||
      sizes.length !== strides.length
    ) {
      return bad(`malformed _rebuild_tensor_v2 arguments at byte ${at}`);
    }
    return { kind: "tensor", storage, offset, size: sizes as number[], stride: strides as number[] };
  }
  // storage classes are only markers for persistent ids; calling one is not something torch.save does
  return fail(
    "LORA_PICKLE_FORBIDDEN_GLOBAL",
    `${file}: the pickle calls ${fn} at byte ${at}, which a weights file never does (nothing was executed)`,
  );
}
