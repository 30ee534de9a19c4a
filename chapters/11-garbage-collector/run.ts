/**
 * Chapter 11: running a program in the interpreter on a fresh heap, with the run options of
 * the heap, and the outcome every tier reports in the same shape (chapter 10's).
 *
 *   --heap <bytes>   the size of one semispace (a suffix k or m is allowed: 512k, 16m)
 *   --gc-stress      collect at every allocation
 *   --verify-heap    check every reference after each collection
 *   --gc-stats       print the collector's counts after the run (to standard error)
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { compileSource } from '#ch06/compiler.ts';
import { run } from '#ch06/interpreter.ts';
import { UncaughtException } from '#ch10/errors.ts';
import type { TraceFrame } from '#ch10/trace.ts';
import { Heap, type HeapOptions, type HeapStats } from './heap.ts';
import { HEAP_LANGUAGE, heapInterpreter } from './language.ts';

export interface HeapRunOptions extends HeapOptions {
  /** Print the counts after the run. */
  readonly stats?: boolean;
}

/** A run's outcome, in the shape of chapter 10's `ExceptionOutcome`, and what the heap counted. */
export interface HeapOutcome {
  readonly output: string[];
  readonly result?: bigint;
  readonly error?: { readonly message: string; readonly payload?: bigint; readonly trace: readonly TraceFrame[] };
  readonly heap: HeapStats;
}

/** Compiles `source` at chapter 11's level and runs it in the interpreter on a new heap. */
export function runInterpreter(source: string, options: HeapRunOptions = {}): HeapOutcome {
  const program = compileSource(source, HEAP_LANGUAGE);
  const heap = new Heap(options);
  const output: string[] = [];
  try {
    const result = run(program, { print: (text) => output.push(text), level: heapInterpreter(heap) });
    return { output, result, heap: { ...heap.stats } };
  } catch (error) {
    if (!(error instanceof UncaughtException)) throw error;
    const { message, payload, trace } = error;
    return { output, error: payload === undefined ? { message, trace } : { message, payload, trace }, heap: { ...heap.stats } };
  } finally {
    heap.dispose();
  }
}

/** `512k` → 524288. */
export function parseSize(text: string): number {
  const match = /^(\d+)([km]?)$/i.exec(text.trim());
  if (match === null) throw new Error(`--heap wants a size in bytes (512k, 16m), found '${text}'`);
  const scale = { '': 1, k: 1024, m: 1024 * 1024 }[match[2]!.toLowerCase() as '' | 'k' | 'm'];
  return Number(match[1]) * scale;
}

/** The heap's run options from command-line words; the other words are returned as they are. */
export function parseHeapOptions(argv: readonly string[]): { options: HeapRunOptions; rest: string[] } {
  const rest: string[] = [];
  let options: HeapRunOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--gc-stress') options = { ...options, stress: true };
    else if (word === '--verify-heap') options = { ...options, verify: true };
    else if (word === '--gc-stats') options = { ...options, stats: true };
    else if (word === '--heap') options = { ...options, semispaceBytes: parseSize(argv[++i] ?? '') };
    else rest.push(word);
  }
  return { options, rest };
}

/** The counts as `--gc-stats` prints them. */
export function formatStats(stats: HeapStats): string {
  return [
    `collections ${stats.collections}`,
    `allocated ${stats.objectsAllocated} objects, ${stats.bytesAllocated} bytes`,
    `copied ${stats.bytesCopied} bytes; peak live ${stats.peakLiveBytes} bytes`,
    `pauses ${stats.pauseMs.toFixed(2)} ms in all, ${stats.maxPauseMs.toFixed(2)} ms at most`,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { options, rest } = parseHeapOptions(process.argv.slice(2));
  if (rest.length !== 1) {
    console.error('usage: run.ts program.jot [--heap 32m] [--gc-stress] [--verify-heap] [--gc-stats]');
    process.exit(2);
  }
  const outcome = runInterpreter(readFileSync(rest[0]!, 'utf8'), options);
  for (const line of outcome.output) console.log(line);
  if (outcome.error !== undefined) console.error(outcome.error.message);
  if (options.stats) console.error(formatStats(outcome.heap));
  process.exitCode = outcome.error === undefined ? 0 : 1;
}
