/**
 * Chapter 10: runtime errors as exceptions, and how an uncaught one ends a program.
 *
 * Each runtime error has a fixed payload (book/language.md lists them): a program catches
 * it exactly as if the failing instruction had been `throw <payload>;`. Uncaught, it ends
 * the program with its message unchanged from the chapter that introduced it (`division by
 * zero at line 5`); an uncaught `throw 42;` ends it with `uncaught exception 42`. Either
 * way the program's end carries a stack trace (trace.ts).
 */
import { RuntimeError } from '#ch06/interpreter.ts';
import { formatTrace, type TraceFrame } from './trace.ts';

/** A runtime error as an exception: its message (without ` at line N`), payload and chapter. */
export interface RuntimeErrorPayload {
  /** How the message starts: `stack overflow` for `stack overflow in f at line 3`. */
  readonly message: string;
  readonly payload: bigint;
  /** The chapter that introduces the error. */
  readonly chapter: number;
}

// @book:start payloads
/** The payload of each runtime error. A program can also throw these values itself. */
export const RUNTIME_ERROR_PAYLOADS = {
  divisionByZero: { message: 'division by zero', payload: -1n, chapter: 6 },
  stackOverflow: { message: 'stack overflow', payload: -2n, chapter: 6 },
  indexOutOfBounds: { message: 'index out of bounds', payload: -3n, chapter: 11 },
  nullAccess: { message: 'null access', payload: -4n, chapter: 11 },
} as const satisfies Record<string, RuntimeErrorPayload>;
// @book:end payloads

/** The payload of a runtime error, by its message without ` at line N`; undefined if none. */
export function payloadOfMessage(detail: string): bigint | undefined {
  for (const kind of Object.values(RUNTIME_ERROR_PAYLOADS)) {
    if (detail === kind.message || detail.startsWith(`${kind.message} `)) return kind.payload;
  }
  return undefined;
}

/** The message of an uncaught `throw`: `uncaught exception 42`. */
export function uncaughtMessage(payload: bigint): string {
  return `uncaught exception ${payload}`;
}

/**
 * `throw` in the interpreter: a `RuntimeError` that carries its payload, so that the
 * unwinder treats it like every other runtime error.
 */
export class ThrownException extends RuntimeError {
  readonly payload: bigint;

  constructor(payload: bigint, line: number) {
    super(uncaughtMessage(payload), line);
    this.payload = payload;
  }
}

/**
 * How an exception that no handler caught ends the run: a `RuntimeError` (so that code
 * written for chapter 06 still catches it) whose message is the runtime error's own, or
 * `uncaught exception <payload>`, with the payload and the trace, innermost frame first.
 */
export class UncaughtException extends RuntimeError {
  readonly payload: bigint | undefined;
  readonly trace: readonly TraceFrame[];

  constructor(error: RuntimeError, payload: bigint | undefined, trace: readonly TraceFrame[]) {
    super(error.detail, error.line);
    this.message = error instanceof ThrownException ? uncaughtMessage(error.payload) : error.message;
    this.payload = payload;
    this.trace = trace;
  }

  /** The message and the trace below it, as a command line prints them. */
  report(): string {
    return `${this.message}\n${formatTrace(this.trace)}`;
  }
}

/**
 * How a run ended, the same shape from every tier: what was printed, and `main`'s result
 * or the uncaught exception (its message, payload and trace).
 */
export interface ExceptionOutcome {
  readonly output: string[];
  readonly result?: bigint;
  readonly error?: {
    readonly message: string;
    readonly payload?: bigint;
    readonly trace: readonly TraceFrame[];
  };
}
