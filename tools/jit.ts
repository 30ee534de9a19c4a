/**
 * `npm run jit -- [options] program.jot`: runs a Jot program with the reference solutions
 * (chapter 05's parser, chapter 06's compiler, chapter 07's template JIT), at the latest
 * language level there is (chapter 11's: arrays and records on a garbage-collected heap, or
 * chapter 10's: exceptions).
 *
 *   --tier interp|baseline|opt
 *                      which tier runs it: chapter 06's interpreter, chapter 07's template
 *                      JIT (the default), or chapter 09's optimizing tier, which compiles every
 *                      function and prints to stderr how many it declined (never silently)
 *   --interp           the same as --tier interp
 *   --emit-ir          with --tier opt: print each function's IR after each optimizer pass
 *   --emit-asm         print the machine code (with the bytecode it came from) before running,
 *                      each function followed by its unwind table (call and throw sites,
 *                      their lines and handlers, the frame size and saved registers)
 *   --arch x64|arm64   run on that architecture (the other one runs under qemu-user)
 *   --mine             use your own chapters/ instead of the reference solutions
 *   --heap <size>      the size of one semispace of the heap (512k, 16m; chapter 11)
 *   --gc-stress        collect at every allocation
 *   --verify-heap      check every reference after each collection
 *   --gc-stats         print the collector's counts to stderr after the run
 *   --use-ref 1-4      with --mine: the reference for the chapters you skipped
 *
 * What the program prints goes to stdout. A compile error (`L:C: message`) or a runtime
 * error goes to stderr, and the exit status is 1. Nothing printed is ever lost: the process
 * ends when its reader has taken everything, however slow the reader (see `Exit`).
 *
 * This file is two programs in one. Started by npm, it reads the options and starts itself
 * again in a Node.js of the chosen architecture with the package.json conditions that pick
 * the reference solutions (`--conditions=solution-ch05` …); that second process, marked by
 * the environment variable below, does the work.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArch, isArch, type Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import { CHAPTERS, parseChapterRanges, solutionCondition, type Chapter } from '../checks/manifest.ts';
import { firstChapterFrame } from '../checks/harness/frames.ts';

const INNER = 'WORKBOOK_JIT_INNER';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: npm run jit -- [--tier interp|baseline|opt] [--interp] [--emit-ir] [--emit-asm] [--arch x64|arm64] [--mine [--use-ref 1-4]]\n' +
  '                    [--heap 8m] [--gc-stress] [--verify-heap] [--gc-stats] program.jot\n' +
  '  --emit-asm with --interp prints the bytecode listing instead of the machine code\n' +
  '  --emit-ir (with --tier opt) prints the IR of each function after each pass';

interface Options {
  file: string;
  interp: boolean;
  emitAsm: boolean;
  arch: Arch;
  mine: boolean;
  /** Chapters whose reference stands in for the learner's, with --mine. */
  useRef: Chapter[];
  /** Which tier runs the program (`--interp` is `--tier interp`). */
  tier: Tier;
  emitIr: boolean;
  /** The heap's options as written (`--heap 512k`, `--gc-stress` …), read by chapter 11's parseHeapOptions. */
  heapArgs: string[];
}

const TIERS = ['interp', 'baseline', 'opt'] as const;
type Tier = (typeof TIERS)[number];

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { file: '', interp: false, emitAsm: false, arch: hostArch(), mine: false, useRef: [], tier: 'baseline', emitIr: false, heapArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--interp') {
      options.interp = true;
      options.tier = 'interp';
    } else if (arg === '--tier' || arg.startsWith('--tier=')) {
      const value = arg === '--tier' ? argv[++i] : arg.slice('--tier='.length);
      if (!TIERS.includes(value as Tier)) fail(`--tier takes interp, baseline or opt, not ${value ?? 'nothing'}\n${USAGE}`);
      options.tier = value as Tier;
      options.interp = options.tier === 'interp';
    } else if (arg === '--emit-ir') options.emitIr = true;
    else if (arg === '--emit-asm') options.emitAsm = true;
    else if (arg === '--gc-stress' || arg === '--verify-heap' || arg === '--gc-stats') options.heapArgs.push(arg);
    else if (arg === '--heap') {
      const value = argv[++i];
      if (value === undefined || !/^\d+[km]?$/i.test(value)) fail(`--heap takes a size in bytes (512k, 16m), not ${value ?? 'nothing'}\n${USAGE}`);
      options.heapArgs.push(arg, value);
    }
    else if (arg === '--mine') options.mine = true;
    else if (arg === '--use-ref') {
      const value = argv[++i];
      try {
        options.useRef = parseChapterRanges(value ?? '');
      } catch (error) {
        fail(`${(error as Error).message}\n${USAGE}`);
      }
    }
    else if (arg === '--arch' || arg.startsWith('--arch=')) {
      const value = arg === '--arch' ? argv[++i] : arg.slice('--arch='.length);
      if (value === undefined || !isArch(value)) fail(`--arch takes x64 or arm64, not ${value ?? 'nothing'}\n${USAGE}`);
      options.arch = value;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      throw new Exit(0);
    } else if (arg.startsWith('-')) fail(`unknown option ${arg}\n${USAGE}`);
    else if (options.file !== '') fail(`one program at a time (got ${options.file} and ${arg})\n${USAGE}`);
    else options.file = arg;
  }
  if (options.file === '') fail(USAGE);
  if (options.emitIr && options.tier !== 'opt') fail(`--emit-ir shows the optimizing tier's IR: add --tier opt\n${USAGE}`);
  if (options.useRef.length > 0 && !options.mine) fail(`--use-ref goes with --mine (without --mine every chapter is the reference)\n${USAGE}`);
  return options;
}

/**
 * Ends the command with `status`, thrown to the top level. Never `process.exit()`: on a
 * pipe, stdout and stderr are written asynchronously, and exiting drops whatever a slow
 * reader has not taken yet (everything past the first 64 KiB). The top level only sets
 * `process.exitCode`, and Node.js ends the process once the queued writes are done.
 */
class Exit extends Error {
  override readonly name = 'Exit';
  readonly status: number;
  constructor(status: number) {
    super(`exit ${status}`);
    this.status = status;
  }
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  throw new Exit(1);
}

/** The outer process: start the inner one on the chosen architecture, pass its exit status on. */
function launch(argv: readonly string[]): void {
  const options = parseOptions(argv);
  const found = availability(options.arch, ROOT);
  if (!found.available) fail(`cannot run ${options.arch} code here: ${found.reason}`);
  const { launcher } = found;
  const reference = options.mine ? options.useRef : CHAPTERS;
  const conditions = reference.map((c) => `--conditions=${solutionCondition(c)}`);
  const args = [
    ...launcher.prefix,
    ...launcher.typescript,
    ...conditions,
    fileURLToPath(import.meta.url),
    // The same options, with the program's path made absolute: the inner process runs in the workbook's folder.
    ...argv.map((arg) => (arg === options.file ? resolve(arg) : arg)),
  ];
  const child = spawn(launcher.command, args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: '', [INNER]: '1' },
  });
  child.on('close', (code, signal) => {
    if (signal !== null) process.stderr.write(`the program was killed by ${signal}\n`);
    process.exitCode = code ?? 1;
  });
}

/** The inner process: parse, compile, run. */
async function main(argv: readonly string[]): Promise<void> {
  const options = parseOptions(argv);
  // `npm run jit -- … | head` closes the pipe early: that is not an error of the program (its
  // own status stands), and nothing more can be written, so exiting at once loses nothing.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? Number(process.exitCode ?? 0) : 1));
  let source: string;
  try {
    source = readFileSync(options.file, 'utf8');
  } catch (e) {
    fail(`cannot read ${options.file}: ${(e as Error).message}`);
  }
  const { CompileError } = await import('#ch05/errors.ts');
  const { compileSource } = await import('#ch06/compiler.ts');
  const interpreter = await import('#ch06/interpreter.ts');
  const language = await latestLanguage(options);
  const heap = await heapOf(options, language);

  let program;
  try {
    program = compileSource(source, language);
  } catch (e) {
    if (e instanceof CompileError) fail(`${options.file}:${e.message}`);
    throw e;
  }
  const print = (text: string) => process.stdout.write(`${text}\n`);

  if (options.interp) {
    if (options.emitAsm) {
      const { listProgram } = await import('#ch06/listing.ts');
      process.stdout.write(`${listProgram(program)}\n\n`);
    }
    try {
      interpreter.run(program, { print, level: heap === undefined ? language : await heap.interpreterLevel() });
    } catch (e) {
      if (e instanceof interpreter.RuntimeError) fail(`runtime error: ${describeError(e)}`);
      throw e;
    } finally {
      heap?.finish();
    }
    return;
  }

  if (options.tier === 'opt') {
    const { compileOptimized } = await import('#ch09/jit.ts');
    const { printFunction } = await import('#ch08/printer.ts');
    const compiled = compileOptimized(program, options.arch, {
      level: language.jit,
      ...(options.emitIr ? { onPass: (fn: string, pass: string, ir: Parameters<typeof printFunction>[0]) => process.stdout.write(`;; ${fn} after ${pass}\n${printFunction(ir)}\n\n`) } : {}),
    });
    process.stderr.write(`optimizing tier: ${compiled.optimized.length} functions optimized, ${compiled.declined.length} declined${compiled.declined.map((d) => `\n  declined ${d.name}: ${d.reason}`).join('')}\n`);
    if (options.emitAsm) process.stdout.write(`${listingWithTables(compiled.jit)}\n\n`);
    await heap?.attach(compiled.jit);
    const outcome = compiled.jit.run({ print });
    compiled.jit.dispose();
    heap?.finish();
    if (outcome.error) fail(`runtime error: ${describeError(outcome.error)}`);
    return;
  }

  const { compileProgram } = await import('#ch07/jit.ts');
  const jit = compileProgram(program, options.arch, language.jit);
  if (options.emitAsm) process.stdout.write(`${listingWithTables(jit)}\n\n`);
  await heap?.attach(jit);
  const outcome = jit.run({ print });
  jit.dispose();
  heap?.finish();
  if (outcome.error) fail(`runtime error: ${describeError(outcome.error)}`);
}

/** Chapter 11's modules, named in variables: the typecheck of chapters/ must not need its files. */
const CHAPTER_11 = '#ch11/';
const CHAPTER_11_JIT = `${CHAPTER_11}jit-run.ts`;

/** The heap a chapter 11 program runs on, made from the heap's options, and what each tier needs of it. */
interface RunHeap {
  /** The interpreter's level, allocating on this heap. */
  interpreterLevel(): Promise<import('#ch06/interpreter.ts').InterpreterLevel>;
  /** Compiled code allocates on this heap. */
  attach(jit: import('#ch07/jit.ts').JitProgram): Promise<void>;
  /** Prints the counts (with --gc-stats) and unmaps the heap. */
  finish(): void;
}

/** A heap for chapter 11's language (whatever the options), or undefined at an earlier level, where heap options are an error. */
async function heapOf(options: Options, language: import('#ch07/language.ts').JitLanguage): Promise<RunHeap | undefined> {
  const chapter11 = `${CHAPTER_11}run.ts`;
  const heapJit = (await importIfThere<typeof import('../solutions/11-garbage-collector/jit-run.ts')>(CHAPTER_11_JIT))?.HEAP_JIT;
  if (heapJit === undefined || language !== heapJit) {
    if (options.heapArgs.length > 0) fail(`${options.heapArgs[0]} needs chapter 11's heap, which this run does not have\n${USAGE}`);
    return undefined;
  }
  const run = (await import(chapter11)) as typeof import('../solutions/11-garbage-collector/run.ts');
  const { Heap } = (await import(`${CHAPTER_11}heap.ts`)) as typeof import('../solutions/11-garbage-collector/heap.ts');
  const { options: heapOptions } = run.parseHeapOptions(options.heapArgs);
  const heap = new Heap(heapOptions);
  return {
    interpreterLevel: async () => ((await import(`${CHAPTER_11}language.ts`)) as typeof import('../solutions/11-garbage-collector/language.ts')).heapInterpreter(heap),
    attach: async (jit) => ((await import(`${CHAPTER_11}jit-level.ts`)) as typeof import('../solutions/11-garbage-collector/jit-level.ts')).useHeap(jit, heap),
    finish: () => {
      if (heapOptions.stats) process.stderr.write(`${run.formatStats(heap.stats)}\n`);
      heap.dispose();
    },
  };
}

/** A module of a later chapter, or undefined when that chapter is not there (or not started, with --mine). */
async function importIfThere<T>(specifier: string): Promise<T | undefined> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || (error as Error).name === 'NotImplemented') return undefined;
    throw error;
  }
}

/**
 * The latest language level: chapter 11's (arrays and records) when it is there, else chapter 10's (exceptions), or chapter 07's core Jot when
 * chapter 10 is not there, or (with --mine) not started: its compiler cannot yet compile a
 * small try and throw. A learner at chapter 07 runs their own JIT on core Jot.
 */
async function latestLanguage(options: Options): Promise<import('#ch07/language.ts').JitLanguage> {
  const core = (await import('#ch07/language.ts')).CORE_JIT_LANGUAGE;
  // A specifier in a variable: the typecheck of chapters/ must not need chapter 10's files.
  const chapter10 = '#ch10/jit-language.ts';
  let language: import('#ch07/language.ts').JitLanguage;
  try {
    language = ((await import(chapter10)) as { EXCEPTIONS_JIT: import('#ch07/language.ts').JitLanguage }).EXCEPTIONS_JIT;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || (error as Error).name === 'NotImplemented') return core;
    throw error;
  }
  if (!options.mine) {
    const chapter11 = (await importIfThere<{ HEAP_JIT: import('#ch07/language.ts').JitLanguage }>(CHAPTER_11_JIT))?.HEAP_JIT;
    return chapter11 ?? language;
  }
  try {
    const { compileSource } = await import('#ch06/compiler.ts');
    const { compileProgram } = await import('#ch07/jit.ts');
    const probe = compileSource('fn main() {\n  try { throw 1; } catch e { return e; }\n  return 0;\n}\n', language);
    compileProgram(probe, options.arch, language.jit);
    return language;
  } catch (error) {
    if ((error as Error).name !== 'NotImplemented') throw error;
    process.stderr.write('(chapter 10 is not finished: running core Jot without exceptions)\n');
    return core;
  }
}

/** A runtime error's message, and the stack trace below it when it has one (chapter 10). */
function describeError(error: Error): string {
  const report = (error as { report?: () => string }).report;
  return typeof report === 'function' ? report.call(error) : error.message;
}

/** The listing, with each function's unwind table (if the level keeps one) after its code. */
function listingWithTables(jit: import('#ch07/jit.ts').JitProgram): string {
  const table = jit.tables.get<{ describeFunction(name: string): string | undefined } | undefined>('unwind', () => undefined);
  if (table === undefined) return jit.listing();
  const blocks = jit.listing().split('\n\n');
  return blocks
    .map((block) => {
      const name = /^== (.+) ==$/m.exec(block)?.[1];
      const unwind = name === undefined ? undefined : table.describeFunction(name);
      return unwind === undefined ? block : `${block}\n${unwind}`;
    })
    .join('\n\n');
}

/** With --mine, an unfinished chapter is a sentence, not a stack trace. */
function explainUnfinished(error: unknown): never {
  if (error instanceof Error && error.name === 'NotImplemented') {
    const origin = firstChapterFrame(error.stack ?? '');
    fail(
      `${error.message}${origin ? `\n  at ${origin.location}` : ''}\n` +
        (origin ? `finish chapter ${origin.chapter} first, or lean on its reference: add --use-ref ${Number(origin.chapter)}` : ''),
    );
  }
  throw error;
}

try {
  if (process.env[INNER] === '1') await main(process.argv.slice(2)).catch(explainUnfinished);
  else launch(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof Exit)) process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = error instanceof Exit ? error.status : 1;
}
