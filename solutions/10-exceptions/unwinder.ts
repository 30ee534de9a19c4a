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
import { EX, EXCEPTIONS_CONTEXT, savedField } from './stubs.ts';
import { offsetOf, type FunctionUnwind, type UnwindSite, type UnwindTable } from './unwind-table.ts';

const PAGE = 4096n;

/**
 * A reader of stack words for one walk, a page at a time: each call into native code costs
 * far more than the copy, and a walk reads two or three words per frame, a few frames per
 * page. A page that holds one stack word is mapped whole, so reading all of it is safe.
 */
export function pageReader(): (address: bigint) => bigint {
  const pages = new Map<bigint, DataView>();
  return (address) => {
    const page = address & ~(PAGE - 1n);
    let view = pages.get(page);
    if (view === undefined) {
      view = new DataView(copyOut(page, Number(PAGE)).buffer);
      pages.set(page, view);
    }
    return view.getBigUint64(Number(address - page), true);
  };
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

/** A frame of one machine segment: its function, the site its pc is at, and its fp. */
export interface MachineFrame {
  readonly fn: FunctionUnwind;
  readonly site: UnwindSite;
  readonly pc: bigint;
  readonly fp: bigint;
}

// @book:start walk
/**
 * The frames of one machine segment, innermost first, from the frame at (pc, fp) to the
 * first frame of the segment (the one whose caller's fp is the entry record). The one walker
 * of the frame-pointer chain: the unwinder, stack traces (and later a collector's roots) use it.
 */
export function* segmentFrames(table: UnwindTable, machine: Machine, pc: bigint, fp: bigint): Generator<MachineFrame> {
  for (;;) {
    const offset = Number(pc - machine.base);
    const fn = table.functionAt(offset);
    const site = fn?.siteAt(offset);
    if (fn === undefined || site === undefined) {
      throw new UnwindError(`walking the stack: pc ${hex(pc)} (code offset ${offset}) is ${fn === undefined ? 'in no compiled function' : `at no call or throw site of ${fn.name}`}; fp ${hex(fp)}`);
    }
    yield { fn, site, pc, fp };
    const callerFp = machine.read(fp);
    if (callerFp === machine.entryRecord) return;
    pc = machine.read(fp + 8n); // the return address into the caller
    fp = callerFp;
  }
}

/** Walks from the throw at (pc, fp) to a handler, or to the entry record if none catches it. */
export function unwind(table: UnwindTable, machine: Machine, pc: bigint, fp: bigint): UnwindResult {
  const frames: WalkedFrame[] = [];
  const restore = new Map<Register, bigint>();
  for (const frame of segmentFrames(table, machine, pc, fp)) {
    const { fn, site } = frame;
    frames.push({ fn, line: site.line });
    if (site.handler !== undefined) {
      const landing = machine.base + BigInt(offsetOf(site.handler.landing));
      return { frames, caught: true, sp: frame.fp - BigInt(fn.frameSize), fp: frame.fp, pc: landing, removed: frames.length - 1, restore };
    }
    // The frame goes: what its prologue saved is the caller's value of those registers.
    for (const { register, offset } of fn.saved) restore.set(register, machine.read(frame.fp + BigInt(offset)));
  }
  const entry = table.entry!;
  const sp = machine.entryRecord - BigInt(entry.frameSize);
  return { frames, caught: false, sp, fp: machine.entryRecord, pc: machine.base + BigInt(offsetOf(entry.pending)), removed: frames.length, restore };
}
// @book:end walk

/**
 * The context's words, read in one copy and written back in one: the throw's callback
 * reads three of them and writes a dozen, and each call into native code costs more than
 * the copy. Only the words from `callsLeft` on are written back (the callback addresses
 * before it stay as they are).
 */
export class ContextWords {
  readonly #context: CodeRegion;
  readonly #view: DataView;

  constructor(context: CodeRegion) {
    this.#context = context;
    this.#view = new DataView(copyOut(context.address, EXCEPTIONS_CONTEXT.size).buffer);
  }

  get(offset: number): bigint {
    return this.#view.getBigUint64(offset, true);
  }

  set(offset: number, value: bigint): void {
    this.#view.setBigUint64(offset, BigInt.asUintN(64, value), true);
  }

  /** Writes the words from `callsLeft` on back to the context. */
  flush(): void {
    this.#context.write(EX.callsLeft!, new Uint8Array(this.#view.buffer, EX.callsLeft!));
  }
}

/** Sets the resume state of `result` in `words`, for the throw stub's resume sequence. */
export function setResume(words: ContextWords, calleeSaved: readonly Register[], result: UnwindResult, payload: bigint): void {
  words.set(EX.resumeSp!, result.sp);
  words.set(EX.resumeFp!, result.fp);
  words.set(EX.resumePc!, result.pc);
  words.set(EX.payload!, payload);
  // Each removed frame's call had taken one from callsLeft; the handler's frame gets them back.
  words.set(EX.callsLeft!, words.get(EX.callsLeft!) + BigInt(result.removed));
  calleeSaved.forEach((reg, i) => {
    const value = result.restore.get(reg);
    if (value !== undefined) words.set(savedField(i), value);
  });
}

function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}
