/**
 * Runs one chapter's checks on one architecture in worker processes, and turns everything
 * that can happen to a worker (a thrown error, a crash, a hang, a file that will not load)
 * into one result per check. A crash ends only the check that caused it: the runner starts
 * a fresh worker at the next check.
 *
 * Time limits are counted in the worker's own CPU time (user + system, from /proc), not in
 * wall-clock time: a machine busy with other work slows a check down without eating its
 * budget, while code that loops still burns CPU and is stopped. A generous wall-clock
 * ceiling catches a worker that hangs without using the CPU at all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import type { Arch } from '#native/arch.ts';
import type { Launcher } from '#native/platform.ts';
import { chapterDir, type Chapter } from '../manifest.ts';
import { clipError, clipOutput, clipText, MAX_ERROR_CHARS, MAX_PROGRAM_NAME_CHARS, type CheckResult, type ListedCheck, type PlantedItem, type ReportedOutcome, type SerializedError, type WorkerEvent } from './protocol.ts';
import type { Judge } from './verdicts.ts';
import { timeLimit } from './check.ts';
import { classifyError, describeCrash, describeHang, fittingRung, type CodeSnapshot } from './diagnose.ts';
import { decodeCrashDump } from './crash-handler.ts';

export interface ChapterRun {
  chapter: Chapter;
  launcher: Launcher;
  /** The workbook folder to run in (the repository, or a staged copy of a student's work). */
  root: string;
  /** package.json conditions: which chapters use the reference solution. */
  conditions: string[];
  /** Called as each result arrives (for progress output). */
  onResult?: (result: CheckResult) => void;
  /** Stop the chapter at its first failure, or at its first failure or todo (the worker is killed there). */
  stopAt?: 'fail' | 'fail-or-todo';
  /** Run only the checks with these exact names (the worker skips every other body). */
  only?: readonly string[];
  /** How much CPU time the worker has used (default: its own process; a sandbox counts its whole tree). */
  cpuTime?: (pid: number | undefined) => number | null;
  /** A wall-clock ceiling on start-up and on each check, below the CPU budget times WALL_CLOCK_FACTOR. */
  wallCeilingMs?: number;
  /** The process that runs the checks, where the one started is a wrapper (a sandbox): it gets SIGUSR2 on a hang. */
  workerPid?: (pid: number | undefined) => number | undefined;
  /**
   * Judges the program outcomes a check reported (verdicts.ts), outside the worker: a check
   * the worker passes fails if its judgement does not agree.
   */
  judge?: Judge;
  /** Called with every program outcome a check reported (to collect the reference's). */
  onOutcome?: (check: string, outcome: ReportedOutcome) => void;
  /** Where the one started is a wrapper: the signal that killed the worker, told by the wrapper's exit code. */
  exitSignal?: (exitCode: number | null) => NodeJS.Signals | null;
  /**
   * Planted bugs instead of the chapter's checks (the self-test): the worker lists one entry
   * per item, the check it names, and runs each item's check alone in a fresh copy of the
   * code with the item's bug in it. Each result carries its item's index.
   */
  planted?: readonly PlantedItem[];
}

/** The worker takes this long to start. */
const STARTUP_MS = { native: 30_000, emulated: 120_000 };
const HANG_GRACE_MS = 3_000;
/**
 * A worker that uses no CPU is given up after this many times its CPU budget in wall-clock
 * time: far enough that a machine loaded ten times over does not reach it with working code.
 */
const WALL_CLOCK_FACTOR = 20;
/** How long a worker that reported `done` may take to exit before it is killed. */
const EXIT_GRACE_MS = { native: 10_000, emulated: 60_000 };
const BUDGET_POLL_MS = 200;
/** The most of one region a worker sends (worker.ts MAX_CODE_COPY). */
const MAX_CODE_BYTES = 256 * 1024;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on every Linux this runs on). */
const CLOCK_TICKS = 100;

/**
 * The CPU time (user + system) that process `pid` has used so far, in milliseconds, or
 * null where /proc cannot tell (then the budget falls back to wall-clock time).
 */
export function cpuTimeMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1000) / CLOCK_TICKS : null;
  } catch {
    return null;
  }
}

interface WorkerOutcome {
  listed: ListedCheck[] | null;
  ended: Map<number, { ms: number; cpuMs?: number; error?: SerializedError }>;
  /** The program outcomes each check reported (check.ts reportOutcome). */
  outcomes: Map<number, ReportedOutcome[]>;
  fileErrors: { file: string; error: SerializedError }[];
  /** The check that was running when the worker stopped without `done`. */
  interrupted: number | null;
  done: boolean;
  signal: NodeJS.Signals | null;
  exitCode: number | null;
  crashBytes: Uint8Array;
  timedOut: boolean;
  /** Killed on purpose after a failure (stopAt). */
  stoppedEarly: boolean;
  code: CodeSnapshot[];
  output: string;
  fatal?: SerializedError;
  /** What the worker wrote on the event channel that its checks cannot have written (see SEAL_FD). */
  forged?: string;
}

/**
 * Starts a worker for `chapter` at check index `from` (counted among the checks it runs:
 * all of them, or those named in `only`); fd 3 carries events, fd 4 crash dumps, and fd 5
 * brings the worker this run's seal, which every event it sends must carry: the worker reads
 * it and closes fd 5 before any check file (and so any code under test) is imported, so
 * code under test that writes on fd 3 itself does not know it. Planted bugs (ChapterRun
 * planted) follow the seal on fd 5, one JSON line.
 */
export function startWorker(launcher: Launcher, root: string, conditions: readonly string[], chapter: Chapter, from: number, only?: readonly string[], seal = newSeal(), planted?: readonly PlantedItem[]): ChildProcess {
  const args = [
    ...launcher.prefix,
    ...launcher.typescript,
    '--expose-gc',
    ...heapFlags(launcher),
    ...conditions.map((c) => `--conditions=${c}`),
    join(root, 'checks', 'harness', 'worker.ts'),
    chapterDir(chapter),
    String(from),
    ...(only ? [JSON.stringify(only)] : []),
  ];
  const child = spawn(launcher.command, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: { NODE_COMPILE_CACHE: COMPILE_CACHE, ...process.env, NODE_OPTIONS: '', WORKBOOK_MODE: launcher.mode, FORCE_COLOR: '0' },
  });
  const sealPipe = (child.stdio as unknown as Writable[])[5]!;
  sealPipe.on('error', () => undefined); // a worker that died at once
  sealPipe.end(seal + '\n' + (planted ? JSON.stringify(planted) + '\n' : ''));
  return child;
}

/**
 * V8 settings of a worker. A chapter 11 or 12 run maps its heap's semispaces (tens of
 * megabytes) and reads them through an ArrayBuffer over that memory, which V8 counts as
 * external memory: by its own limit it would collect its whole heap about once per program
 * run, a checks' worker runs hundreds, and under emulation those collections were a tenth of
 * the time. Counted in V8's global limit instead, they come when the heap as a whole has grown.
 * The checks see no difference. The pinned Node.js (24) knows the setting; a stand-in older
 * than 24 may not, and a Node.js refuses a setting it does not know.
 */
function heapFlags(launcher: Launcher): string[] {
  const major = Number(process.versions.node.split('.')[0]);
  return launcher.standIn === undefined || major >= 24 ? ['--external-memory-accounted-in-global-limit'] : [];
}

/** A fresh secret for one worker: 128 random bits. */
export function newSeal(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Where a Node.js that supports it (22 and later: the emulated one) keeps the code it
 * compiled, so the next worker starts without compiling the same modules again under
 * emulation (about half of an emulated worker's start-up). Entries are checked against
 * each file's contents, so an edited file is compiled afresh.
 */
const COMPILE_CACHE = join(tmpdir(), `workbook-compile-cache-${userInfo().uid}`);

/**
 * The longest event line a worker's own events come near is an outcome (check.ts clips its
 * output to MAX_OUTCOME_CHARS, at most 6 bytes each as JSON) or a code copy (512 KiB of hex):
 * a longer line is code under test pouring into the channel, refused before it is held whole.
 */
export const MAX_EVENT_LINE = 16 * 1024 * 1024;
/**
 * What the runner keeps of one worker's events (outcomes, errors, the list) before it stops
 * the worker: a worker's own events come to well under a megabyte for a chapter, and a
 * submission that stole the seal and sends well-formed events without end costs no more.
 * Code copies are counted apart (MAX_KEPT_CODE), since each check's replace the last's.
 */
const MAX_KEPT_EVENTS = 32 * 1024 * 1024;
/** The most of the code copies of one check kept (the most recent ones: a crash is in those). */
const MAX_KEPT_CODE = 16 * 1024 * 1024;
/** The most code copies of one check kept (a copy may be empty: its count is bounded apart from its bytes). */
const MAX_KEPT_REGIONS = 4096;
/** The most of the crash-dump channel kept (a dump is a few hundred bytes; the rest is read and dropped). */
const MAX_CRASH_BYTES = 1024 * 1024;

/** How deep a worker's events nest (a list of checks, each with its hints, is 4) and how many arrays and objects one holds. */
const MAX_EVENT_DEPTH = 16;
const MAX_EVENT_CONTAINERS = 100_000;

/**
 * Why `line` must not be parsed, or undefined: JSON.parse of a line of nothing but brackets
 * (`[[[[…` or `[[],[],…`) builds tens of bytes of heap per byte of text, hundreds of
 * megabytes for a line within MAX_EVENT_LINE. Counted on the bytes, outside strings (a quote,
 * a backslash or a bracket is never a byte of a longer UTF-8 sequence).
 */
function structureProblem(line: Buffer): string | undefined {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const byte = line[i]!;
    if (inString) {
      if (byte === 0x5c) i++; // \ escapes the next byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > MAX_EVENT_DEPTH) return `a line nested more than ${MAX_EVENT_DEPTH} deep`;
      if (++containers > MAX_EVENT_CONTAINERS) return `a line of more than ${MAX_EVENT_CONTAINERS} arrays and objects`;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return undefined;
}

/**
 * Calls `handle` with each event a worker writes (one JSON object per line), and the length
 * of its line in bytes. With `seal`, a line that is not JSON or does not carry the seal goes
 * to `forged` instead, and so does everything after it. A line longer than MAX_EVENT_LINE is
 * refused (with or without a seal) as soon as it is that long: an unended line is kept as the
 * chunks it came in and only each new chunk is searched for its end, so a line without end
 * costs the runner at most MAX_EVENT_LINE bytes and time in proportion to what arrived.
 */
export function readEvents(stream: Readable, handle: (event: WorkerEvent, bytes: number) => void, seal?: string, forged?: (why: string) => void): void {
  let pieces: Buffer[] = [];
  let pendingBytes = 0;
  let refused = false;
  const refuse = (why: string) => {
    refused = true;
    pieces = [];
    forged?.(why);
  };
  // The worker writes the seal as each event's last member (worker.ts send): a line without it is refused unparsed.
  const sealed = seal === undefined ? undefined : Buffer.from(`"k":${JSON.stringify(seal)}}`);
  const take = (line: Buffer) => {
    if (line.length === 0) return;
    if (sealed !== undefined && !line.subarray(line.length - sealed.length).equals(sealed)) {
      refuse(`a line without this run's seal: ${line.subarray(0, 80).toString('utf8')}`);
      return;
    }
    const shape = structureProblem(line);
    if (shape !== undefined) {
      refuse(shape);
      return;
    }
    const text = line.toString('utf8');
    let event: (WorkerEvent & { k?: unknown }) | undefined;
    try {
      event = JSON.parse(text) as WorkerEvent & { k?: unknown };
    } catch {
      event = undefined;
    }
    const isEvent = typeof event === 'object' && event !== null && !Array.isArray(event);
    if (seal !== undefined && (!isEvent || event!.k !== seal)) {
      refuse(!isEvent ? `a line that is not an event: ${text.slice(0, 80)}` : `an event without this run's seal: ${text.slice(0, 80)}`);
      return;
    }
    if (isEvent) handle(event!, line.length);
  };
  stream.on('data', (chunk: Buffer) => {
    // A newline byte is never part of a longer UTF-8 sequence: lines are cut on bytes and decoded whole.
    let at = 0;
    while (!refused) {
      const newline = chunk.indexOf(0x0a, at);
      const end = newline < 0 ? chunk.length : newline;
      if (pendingBytes + end - at > MAX_EVENT_LINE) {
        refuse(`a line of more than ${MAX_EVENT_LINE / (1024 * 1024)} MiB`);
        return;
      }
      if (newline < 0) {
        if (at < chunk.length) {
          pieces.push(chunk.subarray(at));
          pendingBytes += chunk.length - at;
        }
        return;
      }
      const line = pieces.length ? Buffer.concat([...pieces, chunk.subarray(at, newline)]) : chunk.subarray(at, newline);
      pieces = [];
      pendingBytes = 0;
      at = newline + 1;
      take(line);
    }
  });
}

/** A list of checks as worker.ts sends it: the runner reads every field of every entry. */
function isCheckList(checks: unknown): checks is ListedCheck[] {
  return (
    Array.isArray(checks) &&
    checks.every(
      (c: Partial<ListedCheck> | null) =>
        typeof c === 'object' && c !== null && typeof c.name === 'string' && typeof c.file === 'string' && Number.isFinite(c.points) && Number.isFinite(c.timeoutMs) && Array.isArray(c.hints) && c.hints.every((h) => typeof h === 'string'),
    )
  );
}

function runWorker(run: ChapterRun, from: number): Promise<WorkerOutcome> {
  const { launcher } = run;
  const seal = newSeal();
  const child = startWorker(launcher, run.root, run.conditions, run.chapter, from, run.only, seal, run.planted);
  const cpuTime = run.cpuTime ?? cpuTimeMs;
  const outcome: WorkerOutcome = {
    listed: null,
    ended: new Map(),
    outcomes: new Map(),
    fileErrors: [],
    interrupted: null,
    done: false,
    signal: null,
    exitCode: null,
    crashBytes: new Uint8Array(0),
    timedOut: false,
    stoppedEarly: false,
    code: [],
    output: '',
  };
  // The budget of what runs now (start-up, or one check): CPU time of the worker since `arm`.
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    clearInterval(timer);
    const cpuStart = cpuTime(child.pid);
    const wallStart = performance.now();
    timer = setInterval(() => {
      const wall = performance.now() - wallStart;
      const cpuNow = cpuStart === null ? null : cpuTime(child.pid);
      const used = cpuStart === null || cpuNow === null ? wall : cpuNow - cpuStart;
      if (used <= ms && wall <= Math.min(ms * WALL_CLOCK_FACTOR, run.wallCeilingMs ?? Infinity)) return;
      clearInterval(timer);
      outcome.timedOut = true;
      // The crash handler reports where the worker is, then it dies.
      const inner = run.workerPid?.(child.pid);
      try {
        if (inner === undefined) child.kill('SIGUSR2');
        else process.kill(inner, 'SIGUSR2');
      } catch {
        child.kill('SIGKILL');
      }
      setTimeout(() => child.kill('SIGKILL'), HANG_GRACE_MS).unref();
    }, BUDGET_POLL_MS);
  };
  arm(STARTUP_MS[launcher.mode]);

  const refuse = (why: string) => {
    if (outcome.forged) return;
    outcome.forged = why;
    clearInterval(timer);
    child.kill('SIGKILL');
  };
  // Events come in one order only: list once, then start i, end i for i = from, from + 1, …, then done.
  let expected = from;
  let keptBytes = 0;
  const handle = (event: WorkerEvent, bytes: number) => {
    if (outcome.forged) return;
    if (event.t !== 'code' && (keptBytes += bytes) > MAX_KEPT_EVENTS) return refuse(`more than ${MAX_KEPT_EVENTS / (1024 * 1024)} MiB of events`);
    if (event.t === 'list' && outcome.listed) return refuse('a second list of checks');
    if (event.t === 'list' && !isCheckList(event.checks)) return refuse('a list of checks that is not one');
    if (event.t === 'start' && (event.index !== expected || outcome.interrupted !== null || !outcome.listed)) return refuse(`a start of check ${event.index} out of order`);
    if (event.t === 'end' && event.index !== outcome.interrupted) return refuse(`an end of check ${event.index}, which was not running`);
    if (event.t === 'ready' && (event.index !== outcome.interrupted || !run.planted)) return refuse(`a ready of check ${event.index}, which was not loading`);
    if (event.t === 'done' && (outcome.interrupted !== null || !outcome.listed || expected < outcome.listed.length)) return refuse('done before every check had ended');
    if (event.t === 'outcome' && (event.index !== outcome.interrupted || !Array.isArray(event.output) || !event.output.every((l) => typeof l === 'string'))) {
      return refuse(`an outcome of check ${event.index}, which was not running, or not an outcome`);
    }
    if (event.t === 'end') expected++;
    switch (event.t) {
      case 'code': {
        // The bytes after `hex` are zeros (worker.ts usedLength); a region sealed again replaces its older copy.
        const hex = String(event.hex).slice(0, 2 * MAX_CODE_BYTES);
        const bytes = new Uint8Array(Math.max(Math.min(Number(event.length) || 0, MAX_CODE_BYTES), Math.floor(hex.length / 2)));
        bytes.set(Buffer.from(hex, 'hex'));
        let address: bigint;
        try {
          address = BigInt(event.address);
        } catch {
          return refuse('a code copy at no address');
        }
        outcome.code = outcome.code.filter((r) => r.address !== address || r.bytes.length > bytes.length);
        outcome.code.push({ address, bytes });
        // The most recent copies, within MAX_KEPT_CODE.
        let codeBytes = outcome.code.reduce((sum, r) => sum + r.bytes.length, 0);
        while ((codeBytes > MAX_KEPT_CODE && outcome.code.length > 1) || outcome.code.length > MAX_KEPT_REGIONS) codeBytes -= outcome.code.shift()!.bytes.length;
        break;
      }
      case 'file-error':
        outcome.fileErrors.push({ file: clipText(String(event.file), MAX_PROGRAM_NAME_CHARS), error: clipError(event.error ?? {}) });
        break;
      case 'list':
        outcome.listed = event.checks;
        break;
      case 'start':
        outcome.interrupted = event.index;
        outcome.code = [];
        // A planted item first loads its own copy of the code: start-up's budget, until it is ready.
        if (run.planted) arm(STARTUP_MS[launcher.mode]);
        else arm(outcome.listed?.[event.index]?.timeoutMs ?? timeLimit({}, launcher.mode));
        break;
      case 'ready':
        arm(outcome.listed?.[event.index]?.timeoutMs ?? timeLimit({}, launcher.mode));
        break;
      case 'end':
        outcome.interrupted = null;
        outcome.ended.set(event.index, { ms: Number(event.ms) || 0, ...(typeof event.cpuMs === 'number' ? { cpuMs: event.cpuMs } : {}), ...(event.error ? { error: clipError(event.error) } : {}) });
        arm(STARTUP_MS[launcher.mode]);
        if (run.stopAt && event.error && (run.stopAt === 'fail-or-todo' || classifyError(event.error, run.chapter).status === 'fail')) {
          outcome.stoppedEarly = true;
          clearInterval(timer);
          child.kill('SIGKILL');
        }
        break;
      case 'done':
        outcome.done = true;
        clearInterval(timer);
        // Every result is in. A worker that then fails to exit (Node.js can deadlock on its
        // way out) must not hold the session: it gets a grace period, then SIGKILL.
        setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS[launcher.mode]).unref();
        break;
      case 'outcome': {
        const list = outcome.outcomes.get(event.index) ?? [];
        // Clipped as check.ts reportOutcome clips it: a worker that sends its own events is held to the same bounds.
        const error = event.error ? { error: { kind: event.error.kind, message: clipText(String(event.error.message), MAX_ERROR_CHARS) } } : {};
        list.push({ program: clipText(String(event.program), MAX_PROGRAM_NAME_CHARS), output: clipOutput(event.output), ...error });
        outcome.outcomes.set(event.index, list);
        break;
      }
      case 'fatal':
        outcome.fatal = clipError(event.error ?? {});
        break;
      case 'hello':
        break;
    }
  };

  readEvents(child.stdio[3] as Readable, handle, seal, refuse);
  // The first MAX_CRASH_BYTES of the crash channel; the rest is read (the worker never blocks on it) and dropped.
  const crashChunks: Buffer[] = [];
  let crashKept = 0;
  child.stdio[4]!.on('data', (chunk: Buffer) => {
    if (crashKept >= MAX_CRASH_BYTES) return;
    const kept = chunk.subarray(0, MAX_CRASH_BYTES - crashKept);
    crashChunks.push(kept);
    crashKept += kept.length;
  });
  const keepOutput = (chunk: Buffer) => {
    outcome.output = (outcome.output + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout!.on('data', keepOutput);
  child.stderr!.on('data', keepOutput);

  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(timer);
      const passedOn = signal === null ? (run.exitSignal?.(code) ?? null) : null;
      outcome.exitCode = passedOn ? null : code;
      outcome.signal = signal ?? passedOn;
      outcome.crashBytes = new Uint8Array(Buffer.concat(crashChunks));
      resolve(outcome);
    });
  });
}

/** Trims what the worker printed to the lines worth showing beside a failure. */
function outputTail(output: string): string {
  const lines = output
    .split('\n')
    .filter((l) => l.trim() && !/^qemu: uncaught target signal/.test(l))
    .slice(-12);
  return lines.length ? `what the process printed last:\n${lines.map((l) => `  ${l}`).join('\n')}` : '';
}

export async function runChapter(run: ChapterRun): Promise<CheckResult[]> {
  const { chapter, launcher } = run;
  const results: CheckResult[] = [];
  const base = { chapter: chapter.number, arch: launcher.arch as Arch, mode: launcher.mode };
  const emit = (result: CheckResult) => {
    results.push(result);
    run.onResult?.(result);
  };

  let from = 0;
  let listed: ListedCheck[] | null = null;
  for (let attempt = 0; ; attempt++) {
    const outcome = await runWorker(run, from);
    if (outcome.forged) {
      // Nothing this chapter's workers reported counts: every check fails, with the reason.
      const every = listed ?? outcome.listed ?? [];
      const forged: CheckResult = { ...base, check: '(result channel)', status: 'fail', ms: 0, points: 0, message: `the checks' result channel carried ${outcome.forged}; code under test wrote to it, so no result of this worker counts` };
      results.length = 0;
      emit(forged);
      for (const info of every) emit({ ...base, check: info.name, file: info.file, points: info.points, ms: 0, status: 'fail', message: forged.message });
      return results;
    }
    listed ??= outcome.listed;
    if (attempt === 0) {
      for (const { file, error } of outcome.fileErrors) {
        emit({ ...base, check: `${file} loads`, status: 'fail', ms: 0, points: 0, message: `${error.name}: ${error.message}`, details: error.stack });
      }
    }
    if (!listed) {
      const why = outcome.fatal
        ? `${outcome.fatal.name}: ${outcome.fatal.message}`
        : outcome.timedOut
          ? 'the check worker did not start in time'
          : `the check worker stopped before listing its checks (${outcome.signal ?? `exit ${outcome.exitCode}`})`;
      emit({ ...base, check: '(starting the checks)', status: 'fail', ms: 0, points: 0, message: why, details: [outcome.fatal?.stack, outputTail(outcome.output)].filter(Boolean).join('\n') });
      return results;
    }
    const lastIndex = outcome.done
      ? listed.length - 1
      : outcome.stoppedEarly
        ? Math.max(...outcome.ended.keys())
        : (outcome.interrupted ?? listed.length - 1);
    for (let index = from; index <= lastIndex && index < listed.length; index++) {
      const info = listed[index]!;
      const common: CheckResult = { ...base, check: info.name, file: info.file, points: info.points, status: 'fail', message: '', ms: 0, ...(info.hints[0] ? { hint: info.hints[0] } : {}), ...(run.planted ? { item: index } : {}) };
      const ended = outcome.ended.get(index);
      if (ended) {
        const classified = classifyError(ended.error, chapter);
        // A failure from an earlier chapter's code makes this chapter's hint beside the point.
        if (classified.fromChapter) delete common.hint;
        else if (classified.status === 'fail') {
          const rung = fittingRung(info.hints, classified.message, launcher.arch, info.name);
          if (rung) common.hint = rung;
        }
        const reported = outcome.outcomes.get(index) ?? [];
        for (const r of reported) run.onOutcome?.(info.name, r);
        // What the worker passed, the runner's own judgement of the reported outcomes may fail.
        const judged = classified.status === 'pass' && run.judge ? run.judge(info, reported) : null;
        const times = { ms: Math.round(ended.ms), ...(ended.cpuMs === undefined ? {} : { cpuMs: Math.round(ended.cpuMs) }) };
        if (judged !== null) emit({ ...common, ...times, status: 'fail', message: judged });
        else emit({ ...common, ...times, ...classified });
      } else if (index === outcome.interrupted) {
        const dump = decodeCrashDump(outcome.crashBytes, launcher.arch);
        const diagnosis = outcome.timedOut
          ? describeHang(info.timeoutMs, dump, outcome.code, launcher.arch)
          : describeCrash(outcome.signal, outcome.exitCode, dump, outcome.code, launcher.arch);
        const tail = outputTail(outcome.output);
        emit({ ...common, ms: 0, status: 'fail', message: diagnosis.message, details: [diagnosis.details, tail].filter(Boolean).join('\n\n') });
      }
    }
    if (outcome.stoppedEarly || (run.stopAt && outcome.interrupted !== null)) return results;
    if (outcome.done || outcome.interrupted === null) {
      if (!outcome.done && listed.length > 0 && outcome.ended.size < listed.length - from) {
        // The worker vanished between checks: report the rest rather than loop forever.
        for (let index = from + outcome.ended.size; index < listed.length; index++) {
          const info = listed[index]!;
          emit({ ...base, check: info.name, file: info.file, points: info.points, ms: 0, ...(run.planted ? { item: index } : {}), status: 'fail', message: `the check worker exited unexpectedly (${outcome.signal ?? `exit ${outcome.exitCode}`})`, details: outputTail(outcome.output) });
        }
      }
      return results;
    }
    from = outcome.interrupted + 1;
    if (from >= listed.length) return results;
  }
}
