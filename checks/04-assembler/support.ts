/**
 * Helpers for the chapter 04 checks: building a function with the learner's MacroAssembler
 * for the worker's architecture, running it through the chapter 01 CodeRegion, random
 * operands, and failures that carry the disassembly of the generated code.
 */
import { learnerCode, reportOutcome, type CheckContext } from '#harness/check.ts';
import { disassemble, hex } from '#native/disasm.ts';
import type { Arch } from '#native/arch.ts';
import type { Condition, MacroAssembler, Register } from '#ch04/macro-assembler.ts';

export const ch04 = await learnerCode(import('#ch04/masm.ts'));
export const asm = await learnerCode(import('#ch04/assembler.ts'));
const ch01 = await learnerCode(import('#ch01/code-region.ts'));

export type Fn = (...args: bigint[]) => bigint;

export const MIN = -(1n << 63n);
export const MAX = (1n << 63n) - 1n;
export const EDGES = [MIN, MIN + 1n, -1n, 0n, 1n, MAX - 1n, MAX];
export const i64 = (v: bigint): bigint => BigInt.asIntN(64, v);
export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** Every condition of the neutral Condition type. */
export const CONDITIONS: readonly Condition[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'ult', 'ule', 'ugt', 'uge'];

/** What a condition says about two int64 values. */
export function holds(cond: Condition, a: bigint, b: bigint): boolean {
  const ua = u64(a);
  const ub = u64(b);
  switch (cond) {
    case 'eq': return a === b;
    case 'ne': return a !== b;
    case 'lt': return a < b;
    case 'le': return a <= b;
    case 'gt': return a > b;
    case 'ge': return a >= b;
    case 'ult': return ua < ub;
    case 'ule': return ua <= ub;
    case 'ugt': return ua > ub;
    case 'uge': return ua >= ub;
  }
}

/** The stack pointer as a register number of each ISA (x86-64 rsp; AArch64 sp as chapter 03 numbers it). */
export const SP: Record<Arch, Register> = { x64: 4, arm64: 32 };

/** A failed comparison whose details show the generated code. */
export class Mismatch extends Error {
  override readonly name = 'Assertion';
  readonly details: string;
  constructor(message: string, code: Uint8Array, arch: Arch) {
    super(message);
    this.details = `the generated code:\n${listingOf(code, arch)}`;
  }
}

export function listingOf(code: Uint8Array, arch: Arch): string {
  return disassemble(code, arch)
    .map((l) => `  ${l.offset.toString(16).padStart(4, '0')}  ${hex(l.bytes).padEnd(24)}  ${l.text}`)
    .join('\n');
}

/** A fresh MacroAssembler for the worker's architecture. */
export function newMasm(t: CheckContext): MacroAssembler {
  return ch04.createMacroAssembler(t.arch);
}

/** Builds code with `body`, finishes it, and returns the bytes. */
export function build(t: CheckContext, body: (masm: MacroAssembler) => void): Uint8Array {
  const masm = newMasm(t);
  body(masm);
  return masm.finish();
}

/** Runs `use` with a callable for `code` (entry `entry`), then frees the region. */
export function withCode<T>(code: Uint8Array, arity: number, use: (fn: Fn, address: bigint) => T, entry = 0): T {
  const region = ch01.CodeRegion.allocate(Math.max(code.length, 1));
  try {
    region.write(0, code);
    region.seal();
    return use(region.function(entry, arity), region.address);
  } finally {
    region.dispose();
  }
}

/**
 * Fails with the generated code in the details unless actual === expected. The value the code
 * returned is reported under `reported` (by default `what`): graded work is held to the value
 * the grader's own reference run returned, outside the process that ran the code. A call whose
 * value or name depends on where the code was placed, or on its encoding, passes null.
 */
export function same(actual: bigint, expected: bigint, what: string, code: Uint8Array, arch: Arch, reported: string | null = what): void {
  if (reported !== null) reportOutcome(reported, { output: [String(actual)] });
  if (actual !== expected) {
    throw new Mismatch(`${what}: expected ${expected} (0x${u64(expected).toString(16)}), got ${actual} (0x${u64(actual).toString(16)})`, code, arch);
  }
}

/** A random int64, often an edge case or a small number. */
export function randomI64(t: CheckContext): bigint {
  const r = t.random();
  if (r < 0.2) return EDGES[Math.floor(t.random() * EDGES.length)]!;
  if (r < 0.4) return BigInt(Math.floor(t.random() * 2000) - 1000);
  let v = 0n;
  for (let i = 0; i < 4; i++) v = (v << 16n) | BigInt(Math.floor(t.random() * 0x10000));
  return i64(v);
}

export function pick<T>(t: CheckContext, items: readonly T[]): T {
  return items[Math.floor(t.random() * items.length)]!;
}

/** Registers a check may use freely in a leaf function with two arguments (no callee-saved ones). */
export function freeRegisters(masm: MacroAssembler): Register[] {
  const { args, result, scratch } = masm.regs;
  return [...new Set([result, ...args.slice(0, 4), ...scratch])];
}

/** Two argument registers the operands are parked in first, outside `freeRegisters`. */
export function parking(masm: MacroAssembler): [Register, Register] {
  const { args } = masm.regs;
  return [args[4]!, args[5]!];
}

/**
 * `fn(a, b)` that moves a into register `ra` and b into `rb` (through two parking registers,
 * so that any choice works), runs `op`, and returns register `rd`.
 */
export function binaryFunction(t: CheckContext, ra: Register, rb: Register, rd: Register, op: (masm: MacroAssembler) => void): Uint8Array {
  return build(t, (masm) => {
    const [pa, pb] = parking(masm);
    masm.move(pa, masm.regs.args[0]!);
    masm.move(pb, masm.regs.args[1]!);
    masm.move(ra, pa);
    masm.move(rb, pb);
    op(masm);
    masm.move(masm.regs.result, rd);
    masm.ret();
  });
}

/** Register names for messages. */
export function regName(arch: Arch, r: Register): string {
  const x64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
  return arch === 'x64' ? (x64[r] ?? `?${r}`) : r === 32 ? 'sp' : `x${r}`;
}
