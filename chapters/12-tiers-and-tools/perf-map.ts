/**
 * Chapter 12: a perf map, so that `perf` can name the machine code this VM made. Linux's
 * `perf report` looks for `/tmp/perf-<pid>.map` when a sample lands in memory that no file
 * backs, and reads one symbol per line:
 *
 *   7f3a1c2b4000 3c entry [stub]
 *   7f3a1c2b403c 9a fib [baseline]
 *   START        SIZE  NAME (the rest of the line; ours ends with the tier in brackets)
 *
 * START and SIZE are hexadecimal without `0x`. A function compiled again (another tier, a
 * redefinition in the REPL) gets a line of its own at its new address; perf takes the
 * latest line that covers a sample's address.
 */
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import type { JitLevel } from '#ch07/compiler.ts';
import type { JitProgram } from '#ch07/jit.ts';
import { todo } from '#native/todo.ts';

/** One piece of machine code: where it is, how long, and what it is. */
export interface CodeSymbol {
  readonly start: bigint;
  readonly size: number;
  readonly name: string;
  /** `stub`, `baseline`, `opt`: shown in brackets after the name. */
  readonly tier: string;
}

/** Where a compiled program's functions start, as chapter 07's `JitProgram.functions` says. */
export interface FunctionStart {
  readonly name: string;
  readonly offset: number;
}

/** The path perf reads for process `pid`. */
export function perfMapPath(pid: number = process.pid): string {
  return `/tmp/perf-${pid}.map`;
}

/** `start size name [tier]`, as perf reads it. */
export function perfMapLine(symbol: CodeSymbol): string {
  // TODO: one line as perf reads it (no newline): START and SIZE in lower-case hexadecimal
  // without 0x, the name, then the tier in brackets, separated by single spaces:
  //   7f3a1c2b403c 9a fib [baseline]
  return todo('perfMapLine');
}

/** Reads a perf map back: every line as a symbol (the name without its tier, the tier apart). */
export function parsePerfMap(text: string): CodeSymbol[] {
  // TODO: perfMapLine backwards, for each line of text that is not blank: START SIZE NAME in
  // hex, then an optional ` [TIER]` at the end (tier '' without it; a name may hold spaces).
  // A line that does not read so is an Error with its 1-based line number, the form it should
  // have ('START SIZE NAME [TIER]' in hex) and the line itself.
  return todo('parsePerfMap');
}

/**
 * The symbols of one buffer of code loaded at `address`: the entry stub before the first
 * function, then each function up to the next one (the last one to the end of the code).
 * `tierOf` names the tier that compiled each function.
 */
export function bufferSymbols(address: bigint, codeSize: number, functions: readonly FunctionStart[], tierOf: (name: string) => string): CodeSymbol[] {
  // TODO: the functions in order of their offsets (do not reorder the caller's array). If the
  // first one starts after offset 0, the bytes before it are the entry stub: a symbol
  // `entry` of tier `stub`. Then each function from its offset up to the next function's
  // offset (the last one up to codeSize), with tierOf(its name), leaving out any of size 0.
  // Every start is address + offset.
  return todo('bufferSymbols');
}

/** A function the tiered VM compiled (its `onCompiled`), as a symbol: the optimizing tier is `opt`. */
export function compiledSymbol(code: { readonly name: string; readonly tier: string; readonly address: bigint; readonly length: number }): CodeSymbol {
  return { start: code.address, size: code.length, name: code.name, tier: code.tier === 'optimized' ? 'opt' : code.tier };
}

/**
 * The map file of this process, with lines appended as code is made. A file left by an
 * earlier process of the same pid is emptied first; one this process began is kept (Node.js
 * run with --perf-basic-prof writes its own functions to the same file).
 */
export class PerfMap {
  readonly path: string;
  #written = 0;

  constructor(path: string = perfMapPath()) {
    this.path = path;
    const processStarted = Date.now() - process.uptime() * 1000;
    let left: number | undefined;
    try {
      left = statSync(this.path).mtimeMs;
    } catch {
      left = undefined;
    }
    if (left === undefined || left < processStarted) writeFileSync(this.path, '');
  }

  /** Appends the symbols (synchronously: a sample may come at any time after the code runs). */
  add(symbols: readonly CodeSymbol[]): void {
    if (symbols.length === 0) return;
    appendFileSync(this.path, symbols.map((s) => `${perfMapLine(s)}\n`).join(''));
    this.#written += symbols.length;
  }

  /** How many symbols were written. */
  get written(): number {
    return this.#written;
  }
}

/**
 * `level` with a `beforeRun` that tells `onLoaded` where a program's code was loaded, once
 * per program: chapter 07 maps the code at its first run, and only then is its address known.
 */
export function reportingLoads(level: JitLevel, onLoaded: (address: bigint, jit: JitProgram) => void): JitLevel {
  const seen = new WeakSet<JitProgram>();
  return Object.freeze({
    ...level,
    beforeRun: (context: Parameters<NonNullable<JitLevel['beforeRun']>>[0], run: Parameters<NonNullable<JitLevel['beforeRun']>>[1]) => {
      level.beforeRun?.(context, run);
      if (!seen.has(run.program)) {
        seen.add(run.program);
        onLoaded(run.code.address, run.program);
      }
    },
  });
}
