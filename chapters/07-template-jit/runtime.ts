/**
 * Chapter 07: the runtime, the TypeScript side of compiled code.
 *
 * Compiled code runs on its own until it needs something only TypeScript has: printing a
 * line, or reporting a runtime error. For those it calls back into TypeScript through a
 * koffi *callback*: `koffi.register` wraps a JavaScript function in a small piece of
 * machine code that follows the C calling convention, and returns its address.
 *
 * Callbacks live only as long as a run. Their addresses change from run to run, so the
 * compiled code does not contain them: it finds them in the **context**, a few words of
 * plain memory whose address the entry stub keeps in a callee-saved register all run long.
 *
 *   context + 0    address of jot_print(int64_t value)
 *   context + 8    address of jot_print_bool(int64_t value)
 *   context + 16   address of jot_error(int64_t kind, int64_t function, int64_t line)
 *
 * The context is one page from chapter 01's `CodeRegion` that is never sealed: a region
 * that stays writable is simply readable, writable, non-executable memory.
 */
import koffi from 'koffi';
import { CodeRegion } from '#ch01/code-region.ts';
import type { CompiledProgram } from '#ch06/bytecode.ts';
import { RuntimeError } from '#ch06/interpreter.ts';

/** Byte offsets of the context's fields. */
export const CONTEXT = {
  print: 0,
  printBool: 8,
  error: 16,
  /** Bytes the context needs. */
  size: 24,
} as const;

/** The first argument of `jot_error`: which runtime error happened. */
export const ERROR_KIND = {
  divisionByZero: 0,
  stackOverflow: 1,
} as const;

export type ErrorKind = (typeof ERROR_KIND)[keyof typeof ERROR_KIND];

const printType = koffi.pointer(koffi.proto('void jot_print(int64_t value)'));
const errorType = koffi.pointer(koffi.proto('void jot_error(int64_t kind, int64_t fn, int64_t line)'));

/** koffi hands an int64_t to JavaScript as a number when it is a safe integer, else as a bigint. */
function toBigInt(value: number | bigint): bigint {
  return typeof value === 'bigint' ? value : BigInt(value);
}

export interface RuntimeOptions {
  /** Receives each printed line, without its newline. */
  readonly print: (text: string) => void;
}

/**
 * The callbacks of one run. `open` registers them and writes their addresses into the
 * context; `close` unregisters them (always call it, in a `finally`).
 */
export class Runtime {
  readonly #program: CompiledProgram;
  readonly #context: CodeRegion;
  readonly #print: (text: string) => void;
  #handles: bigint[] = [];
  /** The runtime error the program stopped with, if any. */
  error: RuntimeError | undefined;
  /** An exception thrown by the `print` function given to run(), rethrown after the run. */
  hostError: unknown;
  /** How many times compiled code called back into TypeScript (prints and errors). */
  callbacks = 0;

  constructor(program: CompiledProgram, context: CodeRegion, options: RuntimeOptions) {
    this.#program = program;
    this.#context = context;
    this.#print = options.print;
  }

  open(): void {
    const print = koffi.register((value: number | bigint) => {
      this.callbacks++;
      this.#emit(String(toBigInt(value)));
    }, printType);
    const printBool = koffi.register((value: number | bigint) => {
      this.callbacks++;
      this.#emit(toBigInt(value) === 0n ? 'false' : 'true');
    }, printType);
    const error = koffi.register((kind: number | bigint, fn: number | bigint, line: number | bigint) => {
      this.callbacks++;
      const name = this.#program.functions[Number(fn)]?.name ?? '?';
      const detail = Number(kind) === ERROR_KIND.divisionByZero ? 'division by zero' : `stack overflow in ${name}`;
      this.error ??= new RuntimeError(detail, Number(line));
    }, errorType);
    this.#handles = [print, printBool, error];

    const table = new Uint8Array(CONTEXT.size);
    const view = new DataView(table.buffer);
    view.setBigUint64(CONTEXT.print, print, true);
    view.setBigUint64(CONTEXT.printBool, printBool, true);
    view.setBigUint64(CONTEXT.error, error, true);
    this.#context.write(0, table);
  }

  close(): void {
    for (const handle of this.#handles) koffi.unregister(handle);
    this.#handles = [];
  }

  /** A JavaScript exception must not unwind through machine code: keep it for later. */
  #emit(text: string): void {
    if (this.hostError !== undefined) return;
    try {
      this.#print(text);
    } catch (e) {
      this.hostError = e;
    }
  }
}
