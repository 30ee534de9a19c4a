/**
 * Chapter 10: unwind tables, the facts the unwinder needs about compiled code, kept beside
 * it instead of in it. Nothing here runs while a program runs normally: entering and leaving
 * a `try` executes no instruction, and a call does not test anything after it returns.
 *
 * Each compiled function records, while it is compiled:
 *   - its frame: the frame size (sp = fp - size anywhere in the body), and where its
 *     prologue saved callee-saved registers (fp-relative), which the unwinder must restore
 *     when it removes the frame;
 *   - its sites, keyed by a code offset: the return offset of every call (what the callee's
 *     return address points at) and the offset of every throw (a `throw` statement or a
 *     runtime error). A site has the source line (for stack traces) and, if it lies inside
 *     a `try`, the handler: the label of a landing pad and the operand-stack depth there.
 *
 * A site's key is an offset into the program's code; the unwinder looks up the pc it finds
 * in a frame (the return address its callee saved, or the throw's own pc) as `pc - base`.
 * Labels are resolved only once the code is finished, so the table holds labels while the
 * compilers run and offsets once `finish` has been called.
 */
import type { Frame, Label, Register } from '#ch04/macro-assembler.ts';

export type TierName = 'baseline' | 'optimized';

/** The landing pad of a handler: where the unwinder resumes, and the operand-stack depth there. */
export interface HandlerTarget {
  readonly landing: Label;
  /** Operand-stack depth at the handler before the payload is pushed (the landing pad pushes it). */
  readonly depth: number;
  /** The bytecode offset of the catch block. */
  readonly target: number;
}

/** One call or throw site, keyed by its code offset. */
export interface UnwindSite {
  readonly kind: 'call' | 'throw' | 'limit';
  /** A call: its return offset. A throw (or `limit`, the stack-limit check in a prologue): the offset the throw passes as its pc. */
  readonly at: Label | number;
  readonly line: number;
  readonly handler: HandlerTarget | undefined;
}

/** A callee-saved register a prologue stored, and where: [fp + offset]. */
export interface SavedRegister {
  readonly register: Register;
  readonly offset: number;
}

/** Everything the unwinder knows about one compiled function. */
export class FunctionUnwind {
  readonly index: number;
  readonly name: string;
  readonly tier: TierName;
  /** Where the function's code starts (its entry label). */
  readonly start: Label;
  /** Bytes between fp and sp in the body. */
  readonly frameSize: number;
  readonly saved: readonly SavedRegister[];
  readonly sites: UnwindSite[] = [];
  /** Offset → site, made by `finish`. */
  #byOffset: Map<number, UnwindSite> | undefined;

  constructor(index: number, name: string, tier: TierName, start: Label, frame: Frame) {
    this.index = index;
    this.name = name;
    this.tier = tier;
    this.start = start;
    this.frameSize = frame.size;
    this.saved = frame.saved.map((register, i) => ({ register, offset: frame.savedOffset(i) }));
  }

  /** The site at code offset `offset`, if there is one. */
  siteAt(offset: number): UnwindSite | undefined {
    if (this.#byOffset === undefined) {
      this.#byOffset = new Map(this.sites.map((s) => [offsetOf(s.at), s]));
    }
    return this.#byOffset.get(offset);
  }
}

/** A label's offset, or the offset itself; a label must be bound by now. */
export function offsetOf(at: Label | number): number {
  if (typeof at === 'number') return at;
  if (at.offset === undefined) throw new Error(`unwind table: label ${at.name} was never bound`);
  return at.offset;
}

/** The unwind table of a whole program: its functions, and the entry stub's facts. */
export class UnwindTable {
  readonly functions: FunctionUnwind[] = [];
  /** The function being compiled (the last one added). */
  current: FunctionUnwind | undefined;
  /** Where the entry stub resumes when an exception reaches it, and its frame size. */
  entry: { readonly pending: Label; readonly frameSize: number } | undefined;
  /** The shared throw stub. */
  throwStub: Label | undefined;
  #sorted: FunctionUnwind[] | undefined;

  begin(fn: FunctionUnwind): FunctionUnwind {
    this.functions.push(fn);
    this.current = fn;
    this.#sorted = undefined;
    return fn;
  }

  /** The function whose code contains `offset` (functions are laid out one after another). */
  functionAt(offset: number): FunctionUnwind | undefined {
    const sorted = (this.#sorted ??= [...this.functions].sort((a, b) => offsetOf(a.start) - offsetOf(b.start)));
    // Binary search for the last function starting at or before offset.
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (offsetOf(sorted[mid]!.start) <= offset) low = mid + 1;
      else high = mid;
    }
    return sorted[low - 1];
  }

  /** The table as text, for listings: a block per function, in code order. */
  describe(): string {
    return [...this.functions].sort((a, b) => offsetOf(a.start) - offsetOf(b.start)).map(describeFunction).join('\n');
  }

  /** The block of the function named `name`, or undefined if it has none. */
  describeFunction(name: string): string | undefined {
    const fn = this.functions.find((f) => f.name === name);
    return fn === undefined ? undefined : describeFunction(fn);
  }
}

/**
 * One function's rows:
 *   -- unwind fib (baseline): frame 48 bytes, saves nothing --
 *   0042  call   line 3  handler 00b0 (catch block 0014, stack depth 1)
 * Offsets are the listing's (hex); a site's offset is a call's return offset or a throw's pc.
 */
function describeFunction(fn: FunctionUnwind): string {
  const saved = fn.saved.length === 0 ? 'saves nothing' : `saves ${fn.saved.map((s) => `r${s.register} at fp${s.offset}`).join(', ')}`;
  const rows = [`-- unwind ${fn.name} (${fn.tier}): frame ${fn.frameSize} bytes, ${saved} --`];
  for (const site of [...fn.sites].sort((a, b) => offsetOf(a.at) - offsetOf(b.at))) {
    const handler = site.handler === undefined
      ? 'no handler'
      : `handler ${hex4(offsetOf(site.handler.landing))} (catch block ${String(site.handler.target).padStart(4, '0')}, stack depth ${site.handler.depth})`;
    rows.push(`${hex4(offsetOf(site.at))}  ${site.kind.padEnd(5)}  line ${String(site.line).padEnd(4)} ${handler}`);
  }
  return rows.join('\n');
}

function hex4(offset: number): string {
  return offset.toString(16).padStart(4, '0');
}

/** The name under which the unwind table lives in a program's CodeTables. */
export const UNWIND_TABLE = 'unwind';
