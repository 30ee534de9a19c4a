/**
 * Chapter 06: the bytecode.
 *
 * A function's code is a byte array of instructions. Each instruction is a one-byte opcode
 * followed by its operands, little-endian:
 *
 *   u8   a local slot, or an argument count
 *   u16  a constant index, a function index, or a jump target (an absolute offset into
 *        the same function's code)
 *
 * The machine is a stack machine. Every value is a 64-bit integer (`true` is 1, `false`
 * is 0: the compiler has checked the types, so nothing at run time needs to tell them
 * apart). A function's frame is its local slots (its parameters first, in order) and
 * above them an operand stack that instructions pop their inputs from and push their
 * results to.
 *
 *   add:  … a b  ──▶  … (a + b)       the left operand is the deeper one
 */

/** Opcode numbers. Grouped by kind; gaps leave room for what later chapters add. */
export const Op = {
  const: 0x01, //     u16 k     push constants[k]
  load: 0x02, //      u8 slot   push locals[slot]
  store: 0x03, //     u8 slot   pop into locals[slot]
  pop: 0x04, //                 pop and discard

  add: 0x10, //                 a b → a + b   (all arithmetic wraps to 64 bits)
  sub: 0x11,
  mul: 0x12,
  div: 0x13, //                 a b → a / b, toward zero; b == 0 is a runtime error
  mod: 0x14, //                 a b → a % b, the sign of a; b == 0 is a runtime error
  neg: 0x15, //                 a → -a
  bit_and: 0x16,
  bit_or: 0x17,
  bit_xor: 0x18,
  bit_not: 0x19, //             a → ~a
  shl: 0x1a, //                 a b → a << (b & 63)
  sar: 0x1b, //                 a b → a >> (b & 63), arithmetic (copies the sign bit)
  shr: 0x1c, //                 a b → a >>> (b & 63), logical (shifts in zeros)
  not: 0x1d, //                 a → a ^ 1   (logical not of a boolean)

  eq: 0x20, //                  a b → 1 if a == b else 0
  ne: 0x21,
  lt: 0x22, //                  signed comparisons
  le: 0x23,
  gt: 0x24,
  ge: 0x25,

  jump: 0x30, //      u16 t     continue at offset t
  jump_if_false: 0x31, // u16 t pop; if it is 0, continue at offset t

  call: 0x40, //      u16 f, u8 n   pop n arguments, call functions[f], push its result
  ret: 0x41, //                 pop the result, return it to the caller

  print: 0x50, //               pop and print as an integer
  print_bool: 0x51, //          pop and print as `true` or `false`
} as const;

export type OpName = keyof typeof Op;
export type Opcode = (typeof Op)[OpName];

export type OperandKind = 'u8' | 'u16';

export interface OpcodeInfo {
  /** A core opcode's name is an `OpName`; a later chapter's opcodes have names of their own. */
  readonly name: string;
  /** Its number, the byte in the code. */
  readonly code: number;
  readonly operands: readonly OperandKind[];
  /** Values popped and pushed; `call` pops its argument count, given here as -1. */
  readonly pops: number;
  readonly pushes: number;
  /**
   * Offsets where an instruction of this opcode at `pc` may continue besides the next one,
   * for an opcode of a later chapter that branches (the core jumps are known by name).
   */
  readonly targets?: (code: Uint8Array | readonly number[], pc: number) => readonly number[];
  /**
   * True for an opcode of a later chapter that may collect garbage (an allocation): like a
   * call, an instruction of it gets a stack map, so that a collector knows the frame's roots.
   */
  readonly gcPoint?: boolean;
}

/** Operands and stack effect of each opcode, indexed by name. */
export const OPCODE_INFO: Readonly<Record<OpName, Omit<OpcodeInfo, 'name' | 'code'>>> = {
  const: { operands: ['u16'], pops: 0, pushes: 1 },
  load: { operands: ['u8'], pops: 0, pushes: 1 },
  store: { operands: ['u8'], pops: 1, pushes: 0 },
  pop: { operands: [], pops: 1, pushes: 0 },
  add: { operands: [], pops: 2, pushes: 1 },
  sub: { operands: [], pops: 2, pushes: 1 },
  mul: { operands: [], pops: 2, pushes: 1 },
  div: { operands: [], pops: 2, pushes: 1 },
  mod: { operands: [], pops: 2, pushes: 1 },
  neg: { operands: [], pops: 1, pushes: 1 },
  bit_and: { operands: [], pops: 2, pushes: 1 },
  bit_or: { operands: [], pops: 2, pushes: 1 },
  bit_xor: { operands: [], pops: 2, pushes: 1 },
  bit_not: { operands: [], pops: 1, pushes: 1 },
  shl: { operands: [], pops: 2, pushes: 1 },
  sar: { operands: [], pops: 2, pushes: 1 },
  shr: { operands: [], pops: 2, pushes: 1 },
  not: { operands: [], pops: 1, pushes: 1 },
  eq: { operands: [], pops: 2, pushes: 1 },
  ne: { operands: [], pops: 2, pushes: 1 },
  lt: { operands: [], pops: 2, pushes: 1 },
  le: { operands: [], pops: 2, pushes: 1 },
  gt: { operands: [], pops: 2, pushes: 1 },
  ge: { operands: [], pops: 2, pushes: 1 },
  jump: { operands: ['u16'], pops: 0, pushes: 0 },
  jump_if_false: { operands: ['u16'], pops: 1, pushes: 0 },
  call: { operands: ['u16', 'u8'], pops: -1, pushes: 1 },
  ret: { operands: [], pops: 1, pushes: 0 },
  print: { operands: [], pops: 1, pushes: 0 },
  print_bool: { operands: [], pops: 1, pushes: 0 },
};

/**
 * A table of opcodes: the core ones, plus what later chapters add with `extendOpcodes`. A
 * set is never changed: extending returns a new one, so two sets can live in one process.
 */
export interface OpcodeSet {
  /** By number: `byCode[0x10].name === 'add'`. Undefined for unused numbers. */
  readonly byCode: ReadonlyArray<OpcodeInfo | undefined>;
  readonly byName: ReadonlyMap<string, OpcodeInfo>;
  /** Bytes one instruction takes: the opcode plus its operands. */
  size(opcode: number): number;
}

/** A set holding `base`'s opcodes and `added`; a number or name already taken is an error. */
export function extendOpcodes(base: OpcodeSet, added: readonly OpcodeInfo[]): OpcodeSet {
  const byCode = [...base.byCode];
  const byName = new Map(base.byName);
  for (const info of added) {
    if (!Number.isInteger(info.code) || info.code < 0 || info.code > 0xff) throw new Error(`opcode '${info.name}': number ${info.code} does not fit in a byte`);
    const taken = byCode[info.code];
    if (taken !== undefined) throw new Error(`opcode '${info.name}': number 0x${info.code.toString(16)} is taken by '${taken.name}'`);
    if (byName.has(info.name)) throw new Error(`opcode '${info.name}' is already defined`);
    const frozen = Object.freeze({ ...info, operands: Object.freeze([...info.operands]) });
    byCode[info.code] = frozen;
    byName.set(info.name, frozen);
  }
  const sizes = byCode.map((info) => (info === undefined ? 0 : 1 + info.operands.reduce((n, kind) => n + (kind === 'u8' ? 1 : 2), 0)));
  return Object.freeze({
    byCode: Object.freeze(byCode),
    byName,
    size(opcode: number): number {
      const size = sizes[opcode];
      if (size === undefined || size === 0) throw new Error(`unknown opcode 0x${opcode.toString(16).padStart(2, '0')}`);
      return size;
    },
  });
}

/** The opcodes of this chapter. */
export const CORE_OPCODES: OpcodeSet = extendOpcodes(
  { byCode: new Array(256).fill(undefined), byName: new Map(), size: () => 0 },
  (Object.keys(Op) as OpName[]).map((name) => ({ name, code: Op[name], ...OPCODE_INFO[name] })),
);

/** The core opcode table by number: `OPCODES[0x10].name === 'add'`. Undefined for unused numbers. */
export const OPCODES: ReadonlyArray<OpcodeInfo | undefined> = CORE_OPCODES.byCode;

/** Bytes one core instruction takes: the opcode plus its operands. */
export function instructionSize(opcode: number): number {
  return CORE_OPCODES.size(opcode);
}

/**
 * The value types of Jot, as the keys of an interface so that a later chapter can add its
 * own by declaration merging (`declare module '#ch06/bytecode.ts' { interface ValueTypes { … } }`).
 */
export interface ValueTypes {
  int: true;
  bool: true;
}
export type ValueType = keyof ValueTypes;

/**
 * What is in a frame at a call, by type: the locals that are live there (read later before
 * they are written again) and the operand stack below the call's arguments. A slot that a
 * finished block used and that nothing reads again is not in it: its stale value must not
 * look like a live one (to a collector it would be a root).
 */
export interface StackMap {
  /** The bytecode offset of the `call` (or of a later chapter's GC point, such as an allocation). */
  readonly offset: number;
  /** The live locals in increasing slot order. */
  readonly locals: readonly { readonly slot: number; readonly type: ValueType }[];
  /** The types of the values on the operand stack under the arguments, the bottom first. */
  readonly stack: readonly ValueType[];
}

/** Maps bytecode offsets to source lines: the entry with the greatest offset ≤ pc applies. */
export interface LineEntry {
  readonly offset: number;
  readonly line: number;
}

export interface CompiledFunction {
  readonly name: string;
  /** Its position in `CompiledProgram.functions`, the operand of `call`. */
  readonly index: number;
  readonly params: readonly ValueType[];
  readonly returnType: ValueType;
  /** Local slots the frame needs, parameters included. */
  readonly locals: number;
  /** The most values the operand stack ever holds while this function runs. */
  readonly maxStack: number;
  readonly code: Uint8Array;
  readonly constants: readonly bigint[];
  /** One entry where the source line changes, in increasing offset order. */
  readonly lines: readonly LineEntry[];
  /** The line of the function's name in its declaration. */
  readonly line: number;
  /** A stack map for each call (and each GC point of a later chapter), by its bytecode offset. */
  readonly stackMaps: ReadonlyMap<number, StackMap>;
}

export interface CompiledProgram {
  readonly functions: readonly CompiledFunction[];
  /** The index of `main`. */
  readonly main: number;
}

/** The source line of the instruction at `offset` (0 if the table is empty). */
export function lineAt(fn: CompiledFunction, offset: number): number {
  let line = 0;
  for (const entry of fn.lines) {
    if (entry.offset > offset) break;
    line = entry.line;
  }
  return line;
}

export function readU16(code: Uint8Array, offset: number): number {
  return code[offset]! | (code[offset + 1]! << 8);
}
