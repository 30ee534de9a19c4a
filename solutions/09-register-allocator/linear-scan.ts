/**
 * Chapter 09: linear-scan register allocation (Poletto and Sarkar, "Linear Scan Register
 * Allocation", 1999).
 *
 * The intervals are visited by increasing start. The *active* list holds the intervals
 * that have a register and are still live; before each new interval, those that ended
 * before it starts give their registers back. The new interval takes a free register; if
 * none is free, the interval (new or active) that ends last is *spilled* to a stack slot
 * for its whole life: it is the one whose register would be tied up the longest.
 *
 * Calls destroy the caller-saved registers. An interval that is live across a call (it
 * starts before the call reads its operands and ends after the call writes its result)
 * may only take a callee-saved register; with none free, it goes to the stack.
 */
import type { Register } from '#ch04/macro-assembler.ts';
import type { Interval } from './liveness.ts';
import { inReg, inSlot, type Location } from './machine.ts';

export interface ScanOptions {
  /** The registers to hand out, in order of preference. */
  readonly registers: readonly Register[];
  /** Which of them survive a call. */
  readonly calleeSaved: ReadonlySet<Register>;
  /** The indices j of the calling instructions (they read at 2j and write at 2j + 1), ascending. */
  readonly calls: readonly number[];
}

export interface ScanResult {
  readonly locations: Map<number, Location>;
  /** Stack slots used by spilled values. */
  readonly slots: number;
}

/** Does `interval` live across the call at index `j`: defined before it reads, needed after it writes? */
export function crossesCall(interval: Interval, j: number): boolean {
  return interval.start < 2 * j && interval.end > 2 * j + 1;
}

/** Does `interval` live across any of `calls` (ascending indices)? */
export function crossesAnyCall(interval: Interval, calls: readonly number[]): boolean {
  return calls.some((j) => crossesCall(interval, j));
}

// @book:start linear-scan-signature
/**
 * Gives every interval a register or a stack slot, so that no two overlapping intervals
 * share a location, and no interval that crosses a call is in a caller-saved register.
 * Ties are broken by value number, so the result is the same from run to run.
 */
export function linearScan(intervals: Iterable<Interval>, options: ScanOptions): ScanResult {
// @book:end linear-scan-signature
  const sorted = [...intervals].sort((a, b) => a.start - b.start || a.value - b.value);
  const locations = new Map<number, Location>();
  const free = new Set(options.registers);
  /** Intervals holding a register, by increasing end. */
  let active: { interval: Interval; reg: Register }[] = [];
  let slots = 0;
  const spill = (interval: Interval) => locations.set(interval.value, inSlot(slots++));

  for (const current of sorted) {
    // Expire: intervals that ended before this one starts give their registers back.
    active = active.filter(({ interval, reg }) => {
      if (interval.end >= current.start) return true;
      free.add(reg);
      return false;
    });
    const acrossCall = crossesAnyCall(current, options.calls);
    const allowed = (r: Register) => !acrossCall || options.calleeSaved.has(r);
    const reg = options.registers.find((r) => free.has(r) && allowed(r));
    if (reg !== undefined) {
      free.delete(reg);
      locations.set(current.value, inReg(reg));
      insertByEnd(active, { interval: current, reg });
      continue;
    }
    // No register: spill whichever ends last, this interval or an active one whose register it may take.
    let victim: number = -1;
    for (let i = active.length - 1; i >= 0; i--) {
      if (allowed(active[i]!.reg)) {
        victim = i;
        break;
      }
    }
    const candidate = victim >= 0 ? active[victim]! : undefined;
    if (candidate !== undefined && candidate.interval.end > current.end) {
      spill(candidate.interval);
      active.splice(victim, 1);
      locations.set(current.value, inReg(candidate.reg));
      insertByEnd(active, { interval: current, reg: candidate.reg });
    } else {
      spill(current);
    }
  }
  return { locations, slots };
}

function insertByEnd(active: { interval: Interval; reg: Register }[], entry: { interval: Interval; reg: Register }): void {
  let at = active.length;
  while (at > 0 && active[at - 1]!.interval.end > entry.interval.end) at--;
  active.splice(at, 0, entry);
}
