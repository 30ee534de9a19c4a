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
 * The context is also the home of the run's state, which every tier and the runtime read:
 *
 *   context + 0    address of jot_print(int64_t value)
 *   context + 8    address of jot_print_bool(int64_t value)
 *   context + 16   address of jot_error(int64_t kind, int64_t function, int64_t line)
 *   context + 24   calls left: how many more calls may start before the depth limit
 *   context + 32   failed: 0, or 1 once a runtime error has been reported
 *
 * Compiled code caches `callsLeft` in a pinned register. The cache and the context agree at
 * every transition: the entry stub loads the register from the context and stores it back
 * before it returns, and every call into TypeScript stores it before and loads it after.
 * `failed` is not cached: `jot_error` sets it here, and a caller reads it after each call.
 *
 * Later chapters append fields with `extendContext` (the layout is append-only, so every
 * offset above stays where it is) and never edit this file.
 *
 * The context is one page from chapter 01's `CodeRegion` that is never sealed: a region
 * that stays writable is simply readable, writable, non-executable memory.
 */
import koffi from 'koffi';
import { CodeRegion } from '#ch01/code-region.ts';
import type { CompiledProgram } from '#ch06/bytecode.ts';
import { MAX_CALL_DEPTH, RuntimeError } from '#ch06/interpreter.ts';

/** The context block's layout: a 64-bit word per field, in the order the fields were added. */
export interface ContextLayout {
  /** Byte offset of each field. */
  readonly offsets: Readonly<Record<string, number>>;
  /** Bytes the context needs. */
  readonly size: number;
}

/**
 * A layout with `fields` appended after those of `base`, each a 64-bit word. The base is
 * not changed, and no offset of the base moves: code compiled against it stays right.
 */
export function extendContext<F extends string>(base: ContextLayout, fields: readonly F[]): ContextLayout & { readonly offsets: Readonly<Record<F, number>> } {
  const offsets: Record<string, number> = { ...base.offsets };
  let size = base.size;
  for (const field of fields) {
    if (field in offsets) throw new Error(`context field '${field}' is already defined (at offset ${offsets[field]})`);
    offsets[field] = size;
    size += 8;
  }
  return { offsets: Object.freeze(offsets) as Readonly<Record<F, number>>, size };
}

/** The layout chapter 07 defines: the callbacks, then the run state. */
export const CORE_CONTEXT = extendContext({ offsets: {}, size: 0 }, ['print', 'printBool', 'error', 'callsLeft', 'failed']);

/** Byte offsets of the core context's fields, and its size. */
export const CONTEXT = { ...CORE_CONTEXT.offsets, size: CORE_CONTEXT.size } as const;

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
  /** The message of each runtime error kind, given the name of the function it happened in. */
  readonly errors: ReadonlyMap<number, (functionName: string) => string>;
}

/**
 * The callbacks of one run. `open` registers them and writes their addresses into the
 * context; `close` unregisters them (always call it, in a `finally`).
 */
export class Runtime {
  readonly #program: CompiledProgram;
  readonly #context: CodeRegion;
  readonly #print: (text: string) => void;
  readonly #errors: ReadonlyMap<number, (functionName: string) => string>;
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
    this.#errors = options.errors;
  }

  /** The context, for the callbacks a later chapter adds. */
  get context(): CodeRegion {
    return this.#context;
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
      const detail = this.#errors.get(Number(kind))?.(name) ?? `runtime error ${kind} in ${name}`;
      this.error ??= new RuntimeError(detail, Number(line));
      this.#writeWord(CONTEXT.failed, 1n);
    }, errorType);
    this.#handles = [print, printBool, error];

    const table = new Uint8Array(CONTEXT.size);
    const view = new DataView(table.buffer);
    view.setBigUint64(CONTEXT.print, print, true);
    view.setBigUint64(CONTEXT.printBool, printBool, true);
    view.setBigUint64(CONTEXT.error, error, true);
    // main is the first active call; MAX_CALL_DEPTH - 1 more may start.
    view.setBigInt64(CONTEXT.callsLeft, BigInt(MAX_CALL_DEPTH - 1), true);
    view.setBigInt64(CONTEXT.failed, 0n, true);
    this.#context.write(0, table);
  }

  close(): void {
    for (const handle of this.#handles) koffi.unregister(handle);
    this.#handles = [];
  }

  /** Writes one 64-bit word of the context. */
  #writeWord(offset: number, value: bigint): void {
    const word = new Uint8Array(8);
    new DataView(word.buffer).setBigInt64(0, value, true);
    this.#context.write(offset, word);
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
