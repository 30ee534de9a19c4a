/**
 * The child process that runs one chapter's checks on one architecture.
 *
 *   node worker.ts <chapter-dir> <first-check-index> [<names>]
 *
 * <names>, a JSON array of exact check names, runs only those checks (the others are not
 * listed and their bodies never run). Names the chapter does not have are ignored (a session
 * may name checks of several chapters), but if it has none of them the worker stops with a
 * fatal error that lists the names it does have.
 * It talks to the runner over two inherited pipes:
 *   fd 3  events, one JSON object per line: list, start, code, outcome (check.ts reportOutcome), end, done
 *   fd 4  raw crash dumps, written by the machine-code signal handler
 * Every event is written synchronously, so the runner knows which check was running when
 * the process died. After a crash the runner starts a new worker at the next check.
 */
import { closeSync, existsSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hostArch, type Arch } from '#native/arch.ts';
import { copyOut } from '#native/libc.ts';
import { onExecutable, trace } from '#native/libc-trace.ts';
import { installCrashHandler } from './crash-handler.ts';
import { registry, type CheckContext, type CheckOptions } from './check.ts';
import type { WorkerEvent, SerializedError } from './protocol.ts';

const EVENT_FD = 3;
const SEAL_FD = 5;
const MAX_CODE_COPY = 256 * 1024;

/**
 * This run's seal (see runner.ts startWorker), read and its descriptor closed before any
 * check file, and so any code under test, is imported; kept only in this module's scope.
 */
const seal = (() => {
  try {
    const text = readFileSync(SEAL_FD, 'utf8').trim();
    closeSync(SEAL_FD);
    return text;
  } catch {
    return '';
  }
})();
const stringify = JSON.stringify;

function send(event: WorkerEvent): void {
  writeSync(EVENT_FD, stringify({ ...event, k: seal }, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)) + '\n');
}

/** A small, fast, seedable generator (mulberry32), so random operands repeat run to run. */
function seededRandom(seedText: string): () => number {
  let seed = 2166136261;
  for (let i = 0; i < seedText.length; i++) seed = Math.imul(seed ^ seedText.charCodeAt(i), 16777619);
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const record = error as Error & { details?: unknown; what?: unknown; note?: unknown };
    return {
      name: error.name,
      message: error.message,
      stack: error.stack ?? '',
      details: typeof record.details === 'string' ? record.details : undefined,
      what: typeof record.what === 'string' ? record.what : undefined,
      note: typeof record.note === 'string' ? record.note : undefined,
    };
  }
  return { name: 'Thrown', message: `a non-Error value was thrown: ${String(error)}`, stack: '' };
}

/** The hint ladder of a check on `arch`. */
function hintsFor(hints: CheckOptions['hints'], arch: Arch): string[] {
  if (hints === undefined) return [];
  return Array.isArray(hints) ? [...hints] : [...(hints as Readonly<Record<Arch, readonly string[]>>)[arch]];
}

async function main(): Promise<void> {
  const [chapterDir, fromText, namesText] = process.argv.slice(2);
  if (!chapterDir) throw new Error('usage: worker.ts <chapter-dir> <first-check-index> [<names as a JSON array>]');
  const only = namesText ? (JSON.parse(namesText) as string[]) : null;
  const from = Number(fromText ?? 0);
  const arch = hostArch();
  const mode = process.env.WORKBOOK_MODE === 'emulated' ? 'emulated' : 'native';

  const handler = installCrashHandler();
  send({ t: 'hello', arch, mode, handler: { address: handler.address, length: handler.length } });
  onExecutable((address, length) => {
    const bytes = copyOut(address, Math.min(length, MAX_CODE_COPY));
    send({ t: 'code', address, hex: Buffer.from(bytes).toString('hex') });
  });

  // A staged copy of a student's work (session.ts stageWorkspace, isolate) guards what their code imports.
  const guard = join(process.cwd(), '.import-guard');
  if (existsSync(guard)) {
    const { allowed } = JSON.parse(readFileSync(guard, 'utf8')) as { allowed: string[] };
    register(pathToFileURL(join(process.cwd(), 'checks', 'harness', 'import-guard.mjs')).href, { data: { root: process.cwd(), allowed } });
  }

  const directory = join(process.cwd(), 'checks', chapterDir);
  const files = readdirSync(directory).filter((f) => f.endsWith('.check.ts')).sort();
  for (const file of files) {
    registry.file = `checks/${chapterDir}/${file}`;
    try {
      await import(pathToFileURL(join(directory, file)).href);
    } catch (error) {
      send({ t: 'file-error', file: registry.file, error: serializeError(error) });
    }
  }

  if (only) {
    const unknown = only.filter((name) => !registry.checks.some((c) => c.name === name));
    if (unknown.length === only.length) {
      const known = registry.checks.map((c) => `  ${c.name}`).join('\n');
      throw new Error(`checks/${chapterDir} has no check named ${unknown.map((n) => `'${n}'`).join(', ')}; its checks are:\n${known}`);
    }
  }
  const runnable = registry.checks.filter(
    (c) => (!c.options.arches || c.options.arches.includes(arch)) && (!only || only.includes(c.name)),
  );
  send({
    t: 'list',
    checks: runnable.map((c) => ({
      name: c.name,
      file: c.file,
      points: c.options.points ?? 1,
      hints: hintsFor(c.options.hints, arch),
      timeoutMs: c.options.timeoutMs ?? 5000,
    })),
  });

  let running = -1;
  registry.onOutcome = (outcome) => {
    if (running >= 0) send({ t: 'outcome', index: running, ...outcome });
  };
  for (let index = from; index < runnable.length; index++) {
    const current = runnable[index]!;
    running = index;
    const context: CheckContext = { arch, mode, random: seededRandom(current.name) };
    trace.clear();
    send({ t: 'start', index });
    const started = performance.now();
    try {
      await current.body(context);
      send({ t: 'end', index, ms: performance.now() - started });
    } catch (error) {
      send({ t: 'end', index, ms: performance.now() - started, error: serializeError(error) });
    }
  }
  send({ t: 'done' });
}

main().then(
  () => process.exit(0),
  (error) => {
    send({ t: 'fatal', error: serializeError(error) });
    process.exit(70);
  },
);
