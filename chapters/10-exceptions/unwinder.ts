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
  const frames: WalkedFrame[] = [];
  const restore = new Map<Register, bigint>();
  let removed = 0;
  for (;;) {
    const offset = Number(pc - machine.base);
    const fn = table.functionAt(offset);
    const site = fn?.siteAt(offset);
    if (fn === undefined || site === undefined) {
      throw new UnwindError(`unwinding: pc ${hex(pc)} (code offset ${offset}) is ${fn === undefined ? 'in no compiled function' : `at no call or throw site of ${fn.name}`}; fp ${hex(fp)}`);
    }
    frames.push({ fn, line: site.line });
    if (site.handler !== undefined) {
      return { frames, caught: true, sp: fp - BigInt(fn.frameSize), fp, pc: machine.base + BigInt(offsetOf(site.handler.landing)), removed, restore };
    }
    for (const { register, offset: at } of fn.saved) restore.set(register, machine.read(fp + BigInt(at)));
    const callerFp = machine.read(fp);
    if (callerFp === machine.entryRecord) {
      const entry = table.entry!;
      return { frames, caught: false, sp: callerFp - BigInt(entry.frameSize), fp: callerFp, pc: machine.base + BigInt(offsetOf(entry.pending)), removed, restore };
    }
    pc = machine.read(fp + 8n);
    fp = callerFp;
    removed++;
  }
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
