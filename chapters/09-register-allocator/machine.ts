/**
 * Chapter 09: what the register allocator hands to code generation, and to its checker.
 *
 * An IR value lives in one *location* for its whole life: a register, or a stack slot of
 * the frame (a *spilled* value). Constants live nowhere: every use of one becomes an
 * immediate operand, or a `moveImmediate` into a scratch register right where it is needed.
 *
 * The allocated function is the IR in a block order, each instruction with the locations
 * it reads and writes, and the *moves* the allocator added between instructions:
 *
 *   entry moves     the arguments, from the argument registers to the parameters' locations
 *   call moves      before a call, its arguments into the argument registers;
 *                   after it, the result from the result register to the value's location
 *   edge moves      on the edge from block p to block s, each phi of s gets its operand from p
 *
 * Each list of moves is *sequenced*: a plain list of single moves done one after the other,
 * through the scratch registers where a cycle or a memory-to-memory move needs them. Code
 * generation emits them as they are; the checker (in the checks) re-executes them.
 */
import type { Register } from '#ch04/macro-assembler.ts';
import type { Block, Inst } from '#ch08/ir.ts';

// @book:start machine-types
/** A register, or stack slot `slot` of the frame (spilled). */
export type Location = { readonly kind: 'reg'; readonly reg: Register } | { readonly kind: 'slot'; readonly slot: number };

/** What an instruction reads: a location, or a constant written into the instruction. */
export type Operand = Location | { readonly kind: 'imm'; readonly value: bigint };

export const inReg = (reg: Register): Location => ({ kind: 'reg', reg });
export const inSlot = (slot: number): Location => ({ kind: 'slot', slot });
export const immediate = (value: bigint): Operand => ({ kind: 'imm', value });

/** A key that is equal for equal locations: `r3`, `s0`. */
export function locationKey(location: Location): string {
  return location.kind === 'reg' ? `r${location.reg}` : `s${location.slot}`;
}

export function sameLocation(a: Operand, b: Operand): boolean {
  if (a.kind === 'imm' || b.kind === 'imm') return a.kind === 'imm' && b.kind === 'imm' && a.value === b.value;
  return locationKey(a) === locationKey(b);
}

/** `rax`-style names are the listing's business; here `r3` and `[slot 2]` are enough. */
export function describeOperand(op: Operand): string {
  if (op.kind === 'imm') return `#${op.value}`;
  return op.kind === 'reg' ? `r${op.reg}` : `[slot ${op.slot}]`;
}

/** One move of a sequence. */
export interface Move {
  readonly from: Operand;
  readonly to: Location;
}

/** An instruction with its locations. */
export interface MachineInst {
  readonly inst: Inst;
  /**
   * The instruction folded into this one: the compare a `branch` tests (a fused
   * compare-and-branch), or the multiply an `add` or `sub` adds or subtracts (a
   * multiply-add). Absent for every other instruction.
   */
  readonly fused?: Inst;
  /** Moves done just before the instruction (a call's arguments, a return's value). */
  readonly before: readonly Move[];
  /**
   * Where each operand is read: the instruction's args in order, or with a folded
   * instruction, its args (then, for add and sub, the other operand).
   */
  readonly operands: readonly Operand[];
  /** Where the result is written (absent when the instruction has none, or is folded away). */
  readonly result?: Location;
  /** Registers whose contents the instruction destroys (a call: every caller-saved register). */
  readonly clobbers: readonly Register[];
  /** Moves done just after the instruction (a call's result to its location). */
  readonly after: readonly Move[];
  /** `print`: the type of the value printed (`bool` prints as true or false). */
  readonly printType?: string;
  /**
   * A calling instruction: the values live across it (live after it, its own result aside),
   * by value number. A later chapter's stack maps are made of these (chapter 11: the
   * references among them, each in its stack slot).
   */
  readonly liveAcross?: readonly number[];
}

export interface MachineBlock {
  readonly block: Block;
  readonly insts: readonly MachineInst[];
  /** Sequenced moves on the edge to each successor (by block id); absent or empty when none. */
  readonly edges: ReadonlyMap<number, readonly Move[]>;
}

/** A function after register allocation: everything code generation needs, nothing it must decide. */
export interface AllocatedFunction {
  readonly name: string;
  /** The blocks in the order their code is laid out, the entry block first. */
  readonly blocks: readonly MachineBlock[];
  /** Sequenced moves at entry: the arguments to the parameters' locations. */
  readonly entry: readonly Move[];
  /** Every non-constant value's location, by value number. */
  readonly locations: ReadonlyMap<number, Location>;
  /** Stack slots the frame needs for spilled values. */
  readonly slots: number;
  /** Callee-saved registers the function writes: its prologue saves them. */
  readonly calleeSaved: readonly Register[];
  /** The two registers the allocator never hands out: for spilled operands, constants and move cycles. */
  readonly scratch: readonly [Register, Register];
}
// @book:end machine-types
