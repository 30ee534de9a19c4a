/**
 * Chapter 10: handler tables, where a thrown exception goes in the bytecode.
 *
 * Entering or leaving a `try` runs no instruction. Instead the compiler writes, for each
 * function, a table of its try blocks:
 *
 *   { start, end, target, depth }
 *
 *   start, end   the try body's code is the pc range [start, end)
 *   target       the pc of the catch block
 *   depth        the operand stack's depth at the catch block before the payload is pushed
 *
 * The table lists the innermost try first: a try nested in another's body comes before it,
 * so the first entry whose range holds a pc is the handler for an exception at that pc. At
 * `target` the payload (an int) is on top of the operand stack, at index `depth`, and the
 * catch block's first instruction stores it into the catch name's slot.
 *
 * In a caller the pc that counts is the pc of its `call` instruction (not the return
 * address after it): a call that is the try body's last instruction is still inside it.
 */
import type { CompiledFunction } from '#ch06/bytecode.ts';
import { todo } from '#native/todo.ts';

export interface HandlerEntry {
  /** The first pc of the try body. */
  readonly start: number;
  /** The pc just after the try body: the range is [start, end). */
  readonly end: number;
  /** The pc of the catch block. */
  readonly target: number;
  /** The operand stack's depth at `target` before the payload is pushed. */
  readonly depth: number;
}

/** A function compiled at chapter 10's level: a `CompiledFunction` with its handler table. */
export interface FunctionWithHandlers extends CompiledFunction {
  /** Innermost first. */
  readonly handlers: readonly HandlerEntry[];
}

/** The handler table of `fn`, innermost first; empty for a function without `try`. */
export function handlersOf(fn: CompiledFunction): readonly HandlerEntry[] {
  return (fn as Partial<FunctionWithHandlers>).handlers ?? [];
}

/** The handler for an exception at `pc` in `fn`: the first entry whose range holds pc. */
export function findHandler(fn: CompiledFunction, pc: number): HandlerEntry | undefined {
  // TODO: the handler for an exception at `pc`: the entry of handlersOf(fn) whose range
  // [start, end) holds pc. The table is innermost first, so which one do you return when
  // several hold it? And is `end` itself inside the range?
  return todo('findHandler');
}

/** The table as text, one row per entry: `try 0000-0008 catch 0011 depth 0` (offsets as in listings). */
export function listHandlers(fn: CompiledFunction): string {
  const offset = (n: number) => String(n).padStart(4, '0');
  return handlersOf(fn).map((h) => `try ${offset(h.start)}-${offset(h.end)} catch ${offset(h.target)} depth ${h.depth}`).join('\n');
}
