/**
 * `jot [options] program.jot` (or `npm run jit -- …`): runs a Jot program with the reference
 * solutions (chapter 05's parser, chapter 06's compiler, chapter 07's template JIT …), at the
 * latest language level there is (chapter 11's: arrays and records on a garbage-collected
 * heap, or chapter 10's: exceptions). Without a program (or with --repl) it starts the REPL.
 *
 *   --tier auto|interp|baseline|opt
 *                      which tier runs it: chapter 12's tiered VM (the default where chapter
 *                      12 is there: every function starts in the interpreter, the hot ones are
 *                      compiled), chapter 06's interpreter, chapter 07's template JIT (the
 *                      default before chapter 12), or chapter 09's optimizing tier, which
 *                      compiles every function and prints to stderr how many it declined
 *   --interp           the same as --tier interp
 *   --tier-up-calls N  (auto) calls of a function before it is compiled
 *   --tier-up-loops N  (auto) loop back edges in a function before it is compiled
 *   --tier-up-opt-calls N
 *                      (auto) calls of a compiled function before the optimizing tier compiles it
 *   --trace-tiers      (auto) print each promotion to stderr, with its function and counters
 *   --emit-ir          with --tier opt: print each function's IR after each optimizer pass
 *   --emit-asm         print the code of the tier that runs it before running: the machine
 *                      code with the bytecode it came from, each function followed by its
 *                      unwind table (or, with --interp, the bytecode listing; with the
 *                      tiered VM, after the run, the code it compiled while running)
 *   --perf-map         write /tmp/perf-<pid>.map (start, size, name [tier]) for every compiled
 *                      function, for `perf report`
 *   --arch x64|arm64   run on that architecture (the other one runs under qemu-user)
 *   --mine             use your own chapters/ instead of the reference solutions
 *   --heap <size>      the size of one semispace of the heap (512k, 16m; chapter 11)
 *   --gc-stress        collect at every allocation
 *   --verify-heap      check every reference after each collection
 *   --gc-stats         print the collector's counts to stderr after the run
 *   --use-ref 1-4      with --mine: the reference for the chapters you skipped
 *   --repl             the REPL (also: no program)
 *
 * What the program prints goes to stdout. A compile error (`L:C: message`) or a runtime
 * error goes to stderr, and the exit status is 1. Nothing printed is ever lost: the process
 * ends when its reader has taken everything, however slow the reader (see `Exit`).
 *
 * How it starts. The direct entry (`jot`, see jot.mjs and build.mjs) is this file bundled with
 * the reference solutions into one JavaScript file: on this machine's architecture it runs
 * the program in its own process, with no TypeScript to load. Otherwise (another
 * architecture, or `--mine`, whose code is the learner's TypeScript, or started from the
 * sources) it starts a second process in a Node.js of the chosen architecture, marked by the
 * environment variable below: the bundle itself when it can, else this file with the
 * package.json conditions that pick the reference (`--conditions=solution-ch05` …).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArch, isArch, type Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import { CHAPTERS, parseChapterRanges, solutionCondition, type Chapter } from '../checks/manifest.ts';
import { firstChapterFrame } from '../checks/harness/frames.ts';
import { loadModules, runProgram, TIERS, UsageError, type RunIo, type Tier, type VmModules } from './vm.ts';

const INNER = 'WORKBOOK_JIT_INNER';
/** Set for a second process that runs under qemu-user (it cannot tell by itself). */
const EMULATED = 'WORKBOOK_JIT_EMULATED';
const USAGE = 'usage: jot [--tier auto|interp|baseline|opt] [--interp] [--emit-ir] [--emit-asm] [--perf-map] [--arch x64|arm64] [--mine [--use-ref 1-4]]\n' +
  '           [--tier-up-calls N] [--tier-up-loops N] [--tier-up-opt-calls N] [--trace-tiers] [--heap 32m] [--gc-stress] [--verify-heap] [--gc-stats] program.jot\n' +
  '       jot [--repl] [--arch x64|arm64]       the REPL (:help lists its commands)\n' +
  '  (or npm run jit -- …)  --emit-asm with --interp prints the bytecode listing instead of the machine code;\n' +
  '  --emit-ir (with --tier opt) prints the IR of each function after each pass';

/** The workbook's folder: the nearest one above this file (or the bundle made of it) with the workbook's package.json. */
export function workbookRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'checks', 'manifest.ts'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no workbook folder above ${from}`);
  }
}

interface Options {
  file: string;
  repl: boolean;
  emitAsm: boolean;
  perfMap: boolean;
  arch: Arch;
  mine: boolean;
  /** Chapters whose reference stands in for the learner's, with --mine. */
  useRef: Chapter[];
  /** Which tier runs the program (`--interp` is `--tier interp`); undefined: the default. */
  tier: Tier | undefined;
  tierUpCalls?: number;
  tierUpLoops?: number;
  tierUpOptimizedCalls?: number;
  traceTiers: boolean;
  emitIr: boolean;
  /** The heap's options as written (`--heap 512k`, `--gc-stress` …), read by chapter 11's parseHeapOptions. */
  heapArgs: string[];
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { file: '', repl: false, emitAsm: false, perfMap: false, arch: hostArch(), mine: false, useRef: [], tier: undefined, traceTiers: false, emitIr: false, heapArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--interp') options.tier = 'interp';
    else if (arg === '--tier' || arg.startsWith('--tier=')) {
      const value = arg === '--tier' ? argv[++i] : arg.slice('--tier='.length);
      if (!TIERS.includes(value as Tier)) fail(`--tier takes ${TIERS.join(', ')}, not ${value ?? 'nothing'}\n${USAGE}`);
      options.tier = value as Tier;
    } else if (arg === '--tier-up-calls' || arg === '--tier-up-loops' || arg === '--tier-up-opt-calls') {
      const value = argv[++i];
      if (value === undefined || !/^[1-9]\d*$/.test(value)) fail(`${arg} takes a count of 1 or more, not ${value ?? 'nothing'}\n${USAGE}`);
      if (arg === '--tier-up-calls') options.tierUpCalls = Number(value);
      else if (arg === '--tier-up-loops') options.tierUpLoops = Number(value);
      else options.tierUpOptimizedCalls = Number(value);
    } else if (arg === '--trace-tiers') options.traceTiers = true;
    else if (arg === '--emit-ir') options.emitIr = true;
    else if (arg === '--emit-asm') options.emitAsm = true;
    else if (arg === '--perf-map') options.perfMap = true;
    else if (arg === '--repl') options.repl = true;
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
  if (options.file === '') options.repl = true;
  if (options.repl && options.file !== '') fail(`--repl takes no program (got ${options.file})\n${USAGE}`);
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

/**
 * Starts the second process on the chosen architecture and passes its exit status on.
 * `bundled`: this code runs from the bundle, which the other architecture's Node.js runs as
 * it is (the reference needs no conditions there); `--mine` always runs the sources.
 */
function launch(argv: readonly string[], options: Options, bundled: boolean): void {
  const root = workbookRoot();
  const found = availability(options.arch, root);
  if (!found.available) fail(`cannot run ${options.arch} code here: ${found.reason}`);
  const { launcher } = found;
  const fromBundle = bundled && !options.mine;
  const reference = options.mine ? options.useRef : CHAPTERS;
  const conditions = fromBundle ? [] : reference.map((c) => `--conditions=${solutionCondition(c)}`);
  const args = [
    ...launcher.prefix,
    ...(fromBundle ? [] : launcher.typescript),
    ...conditions,
    // The bundle runs through its launcher, never as the main module itself (a module of the
    // reference that runs as a program when it is the main module would start too).
    join(root, 'tools', fromBundle ? 'jot.mjs' : 'jit.ts'),
    // The same options, with the program's path made absolute: the inner process runs in the workbook's folder.
    ...argv.map((arg) => (arg === options.file ? resolve(arg) : arg)),
  ];
  const child = spawn(launcher.command, args, {
    cwd: root,
    stdio: 'inherit',
    // The check workers' cache of compiled modules (TypeScript stripped, and V8's code): a second start costs a third of the first.
    env: { NODE_COMPILE_CACHE: join(tmpdir(), `workbook-compile-cache-${userInfo().uid}`), ...process.env, NODE_OPTIONS: '', [INNER]: '1', [EMULATED]: launcher.mode === 'emulated' ? '1' : '' },
  });
  child.on('close', (code, signal) => {
    if (signal !== null) process.stderr.write(`the program was killed by ${signal}\n`);
    process.exitCode = code ?? 1;
  });
}

/** Where the program's output, listings and errors go: this process's stdout and stderr. */
const STDIO: RunIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Parse, compile, run (or the REPL), in this process, with `vm`. */
async function runHere(options: Options, vm: VmModules): Promise<void> {
  // `jot … | head` closes the pipe early: that is not an error of the program (its own status
  // stands), and nothing more can be written, so exiting at once loses nothing.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? Number(process.exitCode ?? 0) : 1));
  if (options.repl) {
    const { startRepl } = await import('../solutions/12-tiers-and-tools/repl.ts');
    const thresholds = {
      ...(options.tierUpCalls === undefined ? {} : { tierUpCalls: options.tierUpCalls }),
      ...(options.tierUpLoops === undefined ? {} : { tierUpLoops: options.tierUpLoops }),
      ...(options.tierUpOptimizedCalls === undefined ? {} : { tierUpOptimizedCalls: options.tierUpOptimizedCalls }),
    };
    await startRepl(vm, {
      arch: options.arch,
      historyFile: join(workbookRoot(), '.workbook', 'repl-history'),
      describeHost: () => `${process.arch}, Node.js ${process.version}${process.env[EMULATED] === '1' ? ', under qemu-user' : ', natively'}`,
      thresholds,
      traceTiers: options.traceTiers,
    });
    return;
  }
  let source: string;
  try {
    source = readFileSync(options.file, 'utf8');
  } catch (e) {
    fail(`cannot read ${options.file}: ${(e as Error).message}`);
  }
  if (options.emitAsm) await vm.loadDisassembler?.();
  try {
    const status = runProgram({ ...options, source }, vm, STDIO);
    if (status !== 0) throw new Exit(status);
  } catch (error) {
    if (error instanceof UsageError) fail(`${error.message}\n${USAGE}`);
    throw error;
  }
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

/**
 * The command line. `bundled` is the reference VM when this runs from the bundle (the direct
 * entry); then a run of the reference on this machine's architecture needs no second process.
 */
export async function cli(argv: readonly string[], bundled?: VmModules): Promise<void> {
  try {
    const options = parseOptions(argv);
    if (process.env[INNER] === '1') {
      const vm = bundled ?? (await loadModules(options.mine, options.arch, (text) => process.stderr.write(`${text}\n`)));
      await runHere(options, vm).catch(explainUnfinished);
    } else if (bundled !== undefined && options.arch === hostArch() && !options.mine) {
      await runHere(options, bundled);
    } else {
      launch(argv, options, bundled !== undefined);
    }
  } catch (error) {
    if (!(error instanceof Exit)) process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = error instanceof Exit ? error.status : 1;
  }
}

// Started from the sources (`node --import tsx tools/jit.ts`), not imported by the bundle's entry.
if (import.meta.url.endsWith('/tools/jit.ts') && process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await cli(process.argv.slice(2));
}
