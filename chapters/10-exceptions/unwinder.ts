/**
 * Chapter 10: the unwinder, the TypeScript side of a throw in compiled code.
 *
 * The throw stub (stubs.ts) stored where the throw happened (fp, pc) and the callee-saved
 * registers, then called `jot_throw`. The unwinder walks the frame-pointer chain of one
 * machine segment, innermost frame first:
 *
 *   frame  = (pc, fp); its function and site come from the unwind table (pc - code base)
 *   site has a handler   → found: resume there with sp = fp - frame size
 *   else                 → remove the frame: each callee-saved register its prologue saved
 *                          gets the value saved at [fp + offset] (the caller's value);
 *                          pc = [fp + 8] (the return address), fp = [fp]
 *   fp's caller is the entry record → not caught in this segment: resume at the entry
 *                          stub's `pending` path, and the run ends with the exception
 *
 * It writes the resume state into the context and returns; the throw stub's resume
 * sequence does the rest, outside the callback. No JavaScript exception leaves it.
 */
import { copyOut } from '#native/libc.ts';
import type { CodeRegion } from '#ch01/code-region.ts';
import type { Register } from '#ch04/macro-assembler.ts';
import { EX, savedField } from './stubs.ts';
import { offsetOf, type FunctionUnwind, type UnwindTable } from './unwind-table.ts';
import { todo } from '#native/todo.ts';

/** Reads one 64-bit word of memory (the stack, which is always readable). */
export function readWord(address: bigint): bigint {
  return new DataView(copyOut(address, 8).buffer).getBigUint64(0, true);
}

/** One frame of a walk: its function and the source line it is at. */
export interface WalkedFrame {
  readonly fn: FunctionUnwind;
  readonly line: number;
}

/** Where the walk stopped: at a handler, or at the entry record. */
export interface UnwindResult {
  /** The frames walked, innermost first (the handler's frame last, when there is one). */
  readonly frames: readonly WalkedFrame[];
  /** True when a handler was found in this segment. */
  readonly caught: boolean;
  readonly sp: bigint;
  readonly fp: bigint;
  readonly pc: bigint;
  /** Frames removed between the throw and the handler. */
  readonly removed: number;
  /** Callee-saved registers to restore, with their values. */
  readonly restore: ReadonlyMap<Register, bigint>;
}

/** What the walk needs of the machine: where the code is, and how to read a word. */
export interface Machine {
  readonly base: bigint;
  readonly entryRecord: bigint;
  readonly read: (address: bigint) => bigint;
}

/** A frame whose pc lies in no compiled function, or at no site: the tables or the frame chain are wrong. */
export class UnwindError extends Error {
  override readonly name = 'UnwindError';
}

// @book:start walk
/** Walks from the throw at (pc, fp) to a handler or to the entry record. */
export function unwind(table: UnwindTable, machine: Machine, pc: bigint, fp: bigint): UnwindResult {
    // TODO: the walk over one machine segment, innermost frame first (the top comment of this
    // file has it in brief). For each frame (pc, fp):
    //   - its function and site: table.functionAt and siteAt of the code offset pc - machine.base
    //     (none of either: the tables or the chain are wrong; throw an UnwindError saying which)
    //   - record the frame (its function and the site's line) for the trace
    //   - a site with a handler: caught. Resume at the handler's landing pad (base + its
    //     offset), with this frame's fp and sp = fp - the frame's size
    //   - else the frame is removed: the registers its prologue saved (fn.saved, at
    //     [fp + offset]) get the values saved there; then if the caller's fp ([fp]) is the
    //     entry record, the exception leaves the segment: resume at the entry stub's pending
    //     path, in the entry stub's frame; otherwise the caller is next: pc = [fp + 8], fp = [fp],
    //     and one more frame removed
    return todo('unwind (compiled frames)');
  }
// @book:end walk

/** Reads a context word. */
export function readContext(context: CodeRegion, offset: number): bigint {
  return readWord(context.address + BigInt(offset));
}

/** Writes the resume state of `result` into the context, for the throw stub's resume sequence. */
export function writeResume(context: CodeRegion, calleeSaved: readonly Register[], result: UnwindResult, payload: bigint): void {
  const words: [number, bigint][] = [
    [EX.resumeSp!, result.sp],
    [EX.resumeFp!, result.fp],
    [EX.resumePc!, result.pc],
    [EX.payload!, payload],
    [EX.callsLeft!, readContext(context, EX.callsLeft!) + BigInt(result.removed)],
  ];
  calleeSaved.forEach((reg, i) => {
    const value = result.restore.get(reg);
    if (value !== undefined) words.push([savedField(i), value]);
  });
  for (const [offset, value] of words) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    context.write(offset, bytes);
  }
}

function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}
