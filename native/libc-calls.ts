/**
 * Where the memory calls of native/libc.ts and native/icache.ts are reported, for whoever
 * watches them. The bindings only report; what to do with a report (record it, keep a copy
 * of code that became executable) is the watcher's business: the checks watch through
 * native/libc-trace.ts. With no watcher, a report costs one empty loop.
 *
 * This module imports nothing, so any module may import it without a cycle.
 */

/** One call that touched memory, as the binding saw it. */
export type LibcCall =
  | { call: 'mmap'; address: bigint; length: number; prot: number }
  | { call: 'mprotect'; address: bigint; length: number; prot: number; result: number }
  | { call: 'munmap'; address: bigint; length: number; result: number }
  | { call: 'write'; address: bigint; length: number }
  | { call: 'flush'; address: bigint; length: number };

export type CallObserver = (call: LibcCall) => void;

const observers: CallObserver[] = [];
let muted = 0;

/** Calls `observer` for every reported call from now on; returns a function that stops it. */
export function observeCalls(observer: CallObserver): () => void {
  observers.push(observer);
  return () => {
    const at = observers.indexOf(observer);
    if (at >= 0) observers.splice(at, 1);
  };
}

/** Tells every observer about `call` (the bindings call this after the C call returns). */
export function reportCall(call: LibcCall): void {
  if (muted > 0) return;
  for (const observer of observers) observer(call);
}

/**
 * Runs `action` without reporting its calls: for the workbook's own set-up (the AArch64
 * cache-flush routine's page), which is nobody's code under check.
 */
export function unreported<T>(action: () => T): T {
  muted++;
  try {
    return action();
  } finally {
    muted--;
  }
}
