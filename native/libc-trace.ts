/**
 * The checks' record of how code used memory: every call reported by native/libc.ts and
 * native/icache.ts (what was mapped, written, protected, flushed, unmapped), in order, and
 * a hook for each range that became executable. Only the checks import this module; the
 * bindings themselves record nothing.
 */
import { observeCalls, type LibcCall } from './libc-calls.ts';

/** PROT_EXEC (sys/mman.h; PROT.EXEC in native/libc.ts, which this module does not import). */
const PROT_EXEC = 4;

/** Beyond this many events the oldest half is dropped, so a long run cannot grow without end. */
const MAX_EVENTS = 10_000;

/** One recorded call; `seq` orders them across kinds. */
export type TraceEvent = LibcCall & { seq: number };

/** Every reported call since the last `clear()`, oldest first. */
export const trace = {
  events: [] as TraceEvent[],
  /** The `seq` of the next event: counts on when old events are dropped, so order stays readable. */
  next: 0,
  record(call: LibcCall): void {
    this.events.push({ ...call, seq: this.next++ });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, MAX_EVENTS / 2);
  },
  clear(): void {
    this.events.length = 0;
    this.next = 0;
  },
};

observeCalls((call) => trace.record(call));

/**
 * Calls `listener` whenever a range becomes executable (a successful mprotect with
 * PROT_EXEC). The check runner uses it to keep a copy of the code under check, so that a
 * crash can be shown as an offset and a disassembly.
 */
export function onExecutable(listener: (address: bigint, length: number) => void): void {
  observeCalls((call) => {
    if (call.call === 'mprotect' && call.result === 0 && (call.prot & PROT_EXEC) !== 0) listener(call.address, call.length);
  });
}
