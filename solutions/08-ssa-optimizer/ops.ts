/**
 * Chapter 08: the table of IR operations.
 *
 * Each operation says how many operands it takes, its type rule, its effects, and (for
 * operations on plain values) how to compute it. Everything that reasons about
 * instructions asks this table rather than knowing operations by name: the verifier (type
 * rules), the interpreter and constant folding (`evaluate`), dead-code elimination and
 * code motion (effects). Later chapters add their operations with `extendOps`, which
 * returns a new table and leaves this one as it is.
 *
 * Semantics are Jot's, exactly: 64-bit two's complement wrapping; `/` truncates toward
 * zero and `%` takes the dividend's sign; `x / 0` and `x % 0` are the runtime error
 * "division by zero"; INT64_MIN / -1 is INT64_MIN and INT64_MIN % -1 is 0; shift counts
 * are masked to 6 bits; `true` is 1 and `false` is 0.
 */
import { VOID, type Inst, type Type } from './ir.ts';

// @book:start op-info
export interface Effects {
  /** Can end in a runtime error (division by zero, stack overflow). */
  readonly mayThrow?: boolean;
  /** Observable: prints, calls. Never removed, never reordered with another such op. */
  readonly sideEffect?: boolean;
  /** Reads memory another instruction may write (later chapters: fields, elements). */
  readonly reads?: boolean;
  /** Writes memory. */
  readonly writes?: boolean;
  /** Can allocate on the heap (a GC point, from chapter 11). */
  readonly mayAllocate?: boolean;
}

export interface OpInfo {
  readonly name: string;
  /** Number of operands; -1 for any number (`call`, `phi`). */
  readonly arity: number;
  /** Ends a block. */
  readonly terminator?: boolean;
  readonly effects: Effects;
  /**
   * The type rule: the result type for these operand types, or a message saying what is
   * wrong. `inst` is there for the operations whose type is written on them (`const`).
   */
  readonly typeRule: (operands: readonly Type[], inst: Inst) => Type | { error: string };
  /**
   * The value for constant operands (booleans are 0n and 1n). Throws `DivisionByZero`
   * where Jot raises that runtime error. Absent for operations that are not pure
   * functions of their operands.
   */
  readonly evaluate?: (operands: readonly bigint[]) => bigint;
  /** `a op b` equals `b op a`: value numbering sorts the operands. */
  readonly commutative?: boolean;
}
// @book:end op-info

export type OpTable = ReadonlyMap<string, OpInfo>;

/** Thrown by `evaluate` for Jot's "division by zero". */
export class DivisionByZero extends Error {
  override readonly name = 'DivisionByZero';
  constructor() {
    super('division by zero');
  }
}

const wrap = (x: bigint) => BigInt.asIntN(64, x);
const bit = (b: boolean) => (b ? 1n : 0n);

function intOp(name: string, evaluate: (a: bigint, b: bigint) => bigint, extra: Partial<OpInfo> = {}): OpInfo {
  return {
    name,
    arity: 2,
    effects: {},
    typeRule: (t) => (t[0] === 'int' && t[1] === 'int' ? 'int' : { error: `${name} needs int operands, found ${t.join(' and ')}` }),
    evaluate: ([a, b]) => evaluate(a!, b!),
    ...extra,
  };
}

function compareOp(name: string, evaluate: (a: bigint, b: bigint) => boolean): OpInfo {
  return {
    name,
    arity: 2,
    effects: {},
    typeRule: (t) => (t[0] === 'int' && t[1] === 'int' ? 'bool' : { error: `${name} needs int operands, found ${t.join(' and ')}` }),
    evaluate: ([a, b]) => bit(evaluate(a!, b!)),
  };
}

function equalityOp(name: string, equal: boolean): OpInfo {
  return {
    name,
    arity: 2,
    effects: {},
    commutative: true,
    typeRule: (t) => (t[0] === t[1] ? 'bool' : { error: `${name} needs operands of one type, found ${t.join(' and ')}` }),
    evaluate: ([a, b]) => bit((a === b) === equal),
  };
}

function unaryOp(name: string, type: Type, evaluate: (a: bigint) => bigint): OpInfo {
  return {
    name,
    arity: 1,
    effects: {},
    typeRule: (t) => (t[0] === type ? type : { error: `${name} needs a ${type} operand, found ${t[0]}` }),
    evaluate: ([a]) => evaluate(a!),
  };
}

export function divide(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new DivisionByZero();
  return wrap(a / b); // INT64_MIN / -1 is 2^63, which wraps back to INT64_MIN
}

export function remainder(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new DivisionByZero();
  return a % b;
}

/** The high 64 bits of the 128-bit signed product. */
export function mulHigh(a: bigint, b: bigint): bigint {
  return wrap((a * b) >> 64n);
}

const ops: OpInfo[] = [
  {
    name: 'const',
    arity: 0,
    effects: {},
    typeRule: (_, inst) => inst.type,
  },
  {
    name: 'param',
    arity: 0,
    effects: {},
    typeRule: (_, inst) => inst.type,
  },
  {
    name: 'copy',
    arity: 1,
    effects: {},
    typeRule: (t) => t[0]!,
    evaluate: ([a]) => a!,
  },
  intOp('add', (a, b) => wrap(a + b), { commutative: true }),
  intOp('sub', (a, b) => wrap(a - b)),
  intOp('mul', (a, b) => wrap(a * b), { commutative: true }),
  intOp('div', divide, { effects: { mayThrow: true } }),
  intOp('mod', remainder, { effects: { mayThrow: true } }),
  intOp('mulhi', mulHigh, { commutative: true }),
  intOp('and', (a, b) => a & b, { commutative: true }),
  intOp('or', (a, b) => a | b, { commutative: true }),
  intOp('xor', (a, b) => a ^ b, { commutative: true }),
  intOp('shl', (a, b) => wrap(a << (b & 63n))),
  intOp('sar', (a, b) => a >> (b & 63n)),
  intOp('shr', (a, b) => wrap(BigInt.asUintN(64, a) >> (b & 63n))),
  unaryOp('neg', 'int', (a) => wrap(-a)),
  unaryOp('bitnot', 'int', (a) => ~a),
  unaryOp('not', 'bool', (a) => a ^ 1n),
  equalityOp('eq', true),
  equalityOp('ne', false),
  compareOp('lt', (a, b) => a < b),
  compareOp('le', (a, b) => a <= b),
  compareOp('gt', (a, b) => a > b),
  compareOp('ge', (a, b) => a >= b),
  {
    name: 'call',
    arity: -1,
    effects: { mayThrow: true, sideEffect: true, reads: true, writes: true },
    typeRule: (_, inst) => inst.type, // checked against the callee's signature by the verifier
  },
  {
    name: 'print',
    arity: 1,
    effects: { sideEffect: true },
    typeRule: (t) => (t[0] === 'int' || t[0] === 'bool' ? VOID : { error: `print needs an int or bool, found ${t[0]}` }),
  },
  {
    name: 'phi',
    arity: -1,
    effects: {},
    typeRule: (t, inst) => (t.every((x) => x === inst.type) ? inst.type : { error: `phi of type ${inst.type} has operands of type ${t.join(', ')}` }),
  },
  {
    name: 'jump',
    arity: 0,
    terminator: true,
    effects: {},
    typeRule: () => VOID,
  },
  {
    name: 'branch',
    arity: 1,
    terminator: true,
    effects: {},
    typeRule: (t) => (t[0] === 'bool' ? VOID : { error: `branch needs a bool condition, found ${t[0]}` }),
  },
  {
    name: 'return',
    arity: 1,
    terminator: true,
    effects: { sideEffect: true },
    typeRule: () => VOID, // checked against the function's return type by the verifier
  },
];

/** The operations of core Jot. */
export const CORE_OPS: OpTable = new Map(ops.map((op) => [op.name, op]));

/** A new table with `more` added. Redefining an operation is an error: meanings never change. */
export function extendOps(base: OpTable, more: readonly OpInfo[]): OpTable {
  const table = new Map(base);
  for (const op of more) {
    if (table.has(op.name)) throw new Error(`IR operation '${op.name}' is already defined`);
    table.set(op.name, op);
  }
  return table;
}

export function opInfo(ops: OpTable, name: string): OpInfo {
  const info = ops.get(name);
  if (info === undefined) throw new Error(`unknown IR operation '${name}'`);
  return info;
}

/** No effect at all: removable when unused, movable, and equal to any other with the same operands. */
export function isPure(info: OpInfo): boolean {
  const e = info.effects;
  return !info.terminator && !e.mayThrow && !e.sideEffect && !e.reads && !e.writes && !e.mayAllocate && info.name !== 'phi' && info.name !== 'param';
}
