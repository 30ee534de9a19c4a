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
import { closeSync, existsSync, readdirSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hostArch, type Arch } from '#native/arch.ts';
import { copyOut } from '#native/libc.ts';
import { onExecutable, trace } from '#native/libc-trace.ts';
import { installCrashHandler } from './crash-handler.ts';
import { registry, timeLimit, type CheckContext, type CheckOptions } from './check.ts';
import { clipError, PLANTED_SETUP_ERROR, type PlantedItem, type WorkerEvent, type SerializedError } from './protocol.ts';

const EVENT_FD = 3;
const SEAL_FD = 5;
const MAX_CODE_COPY = 256 * 1024;

/**
 * This run's seal (see runner.ts startWorker), read and its descriptor closed before any
 * check file, and so any code under test, is imported; kept only in this module's scope.
 */
const [seal, plantedText] = (() => {
  try {
    const text = readFileSync(SEAL_FD, 'utf8');
    closeSync(SEAL_FD);
    const newline = text.indexOf('\n');
    return newline < 0 ? [text.trim(), ''] : [text.slice(0, newline).trim(), text.slice(newline + 1).trim()];
  } catch {
    return ['', ''];
  }
})();
const stringify = JSON.stringify;

function send(event: WorkerEvent): void {
  writeSync(EVENT_FD, stringify({ ...event, k: seal }, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)) + '\n');
}

const ZEROS = new Uint8Array(4096);

/**
 * How many bytes of `bytes` hold code: up to its last non-zero byte. A region is sealed whole
 * and is mostly the zeros after its code (a tiered VM seals one of a megabyte again at every
 * promotion), so only that part travels to the runner, which fills in the zeros.
 */
function usedLength(bytes: Uint8Array): number {
  let end = bytes.length;
  // Whole pages of zeros at a time (a native compare), then byte by byte.
  while (end >= ZEROS.length && Buffer.compare(bytes.subarray(end - ZEROS.length, end), ZEROS) === 0) end -= ZEROS.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/** Milliseconds of CPU time (user and system, every thread) this process used since `start`. */
function cpuSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
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
  // Code under test chose what it threw: a text of any length, a getter or a toString that throws.
  const text = (read: () => unknown): string => {
    try {
      return String(read() ?? '');
    } catch {
      return '(a property that throws when read)';
    }
  };
  if (error instanceof Error) {
    const record = error as Error & { details?: unknown; what?: unknown; note?: unknown };
    const optional = (read: () => unknown): string | undefined => {
      const value = (() => {
        try {
          return read();
        } catch {
          return undefined;
        }
      })();
      return typeof value === 'string' ? value : undefined;
    };
    return clipError({
      name: text(() => error.name),
      message: text(() => error.message),
      stack: text(() => error.stack),
      details: optional(() => record.details),
      what: optional(() => record.what),
      note: optional(() => record.note),
    });
  }
  return clipError({ name: 'Thrown', message: `a non-Error value was thrown: ${text(() => error)}`, stack: '' });
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
    send({ t: 'code', address, length: bytes.length, hex: Buffer.from(bytes.buffer, 0, usedLength(bytes)).toString('hex') });
  });

  // A staged copy of a student's work (session.ts stageWorkspace, isolate) guards what their code imports.
  const guard = join(process.cwd(), '.import-guard');
  if (existsSync(guard)) {
    const { allowed } = JSON.parse(readFileSync(guard, 'utf8')) as { allowed: string[] };
    // registerHooks (Node 22.15+; not yet in the type definitions) runs the guard in this thread,
    // for require() as well as import.
    const { registerHooks } = nodeModule as unknown as { registerHooks: (hooks: object) => void };
    const { importGuard } = (await import(pathToFileURL(join(process.cwd(), 'checks', 'harness', 'import-guard.mjs')).href)) as { importGuard: (data: { root: string; allowed: string[] }) => object };
    registerHooks(importGuard({ root: process.cwd(), allowed }));
  }
  if (plantedText) return runPlanted(JSON.parse(plantedText) as PlantedItem[], chapterDir, from, arch, mode);

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
      timeoutMs: timeLimit(c.options, mode),
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
    const cpuStarted = process.cpuUsage();
    try {
      await current.body(context);
      send({ t: 'end', index, ms: performance.now() - started, cpuMs: cpuSince(cpuStarted) });
    } catch (error) {
      send({ t: 'end', index, ms: performance.now() - started, cpuMs: cpuSince(cpuStarted), error: serializeError(error) });
    }
  }
  send({ t: 'done' });
}

/** The synchronous module hooks of Node.js 22.15 and newer (module.registerHooks), as used here. */
interface ModuleHooks {
  resolve(specifier: string, context: object, nextResolve: (specifier: string, context: object) => { url: string }): { url: string };
  load(url: string, context: object, nextLoad: (url: string, context: object) => { format?: string; source?: unknown }): { format?: string; source?: unknown };
}

/**
 * koffi keeps the types it is given a name for (a function type declared as
 * `void jot_print(int64_t value)`) in one table per process, and refuses a name twice. The
 * code under test declares its types when its module loads, and a planted item loads a fresh
 * copy of it: there a name already taken gets a fresh one. The code holds the type object it
 * gets back, never looks it up by name, so a bug in a declaration still takes effect.
 */
async function tolerateRedefinedTypes(): Promise<void> {
  const koffi = (await import('koffi')).default as unknown as Record<string, unknown>;
  let renamed = 0;
  for (const name of ['proto', 'struct', 'union', 'opaque', 'alias']) {
    const original = koffi[name];
    if (typeof original !== 'function') continue;
    koffi[name] = (...args: unknown[]) => {
      try {
        return original.apply(koffi, args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('Duplicate type name') || typeof args[0] !== 'string') throw error;
        const suffix = `_planted${++renamed}`;
        const first = args[0];
        // A whole declaration ('void f(int64_t x)') names its type before the parenthesis.
        const fresh = args.length === 1 && first.includes('(') ? first.replace(/(\w+)\s*\(/, `$1${suffix}(`) : `${first}${suffix}`;
        return original.apply(koffi, [fresh, ...args.slice(1)]);
      }
    };
  }
}

/** The query that names the modules of one planted item's copy of the code. */
const PLANTED_QUERY = /\?planted=[\w-]+/g;

/**
 * Runs planted bugs (runner.ts ChapterRun planted): one list entry per item, then for each
 * item a fresh copy of every module of checks/, solutions/ and chapters/ (those of the
 * harness, native/ and packages are shared, as they are between the checks of one chapter),
 * the item's file with its bug, and the check it names run alone. A bug that crashes or hangs
 * ends the worker as a check would; the runner starts a new one at the next item.
 */
async function runPlanted(items: PlantedItem[], chapterDir: string, from: number, arch: Arch, mode: 'native' | 'emulated'): Promise<void> {
  const { registerHooks, stripTypeScriptTypes } = nodeModule as unknown as { registerHooks?: (hooks: ModuleHooks) => unknown; stripTypeScriptTypes: (code: string) => string };
  if (typeof registerHooks !== 'function') throw new Error(`planted bugs need a Node.js with module.registerHooks (22.15 or newer), not ${process.version}: run npm run setup`);
  const root = pathToFileURL(realpathSync(process.cwd()) + '/').href;
  const shared = ['native/', 'checks/harness/', 'node_modules/'].map((folder) => root + folder);
  let current: PlantedItem | undefined;
  const strippedTexts = new Map<string, string>();
  const copied = (url: string) => url.startsWith(root) && !url.includes('?') && !shared.some((folder) => url.startsWith(folder));
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      return current && copied(resolved.url) ? { ...resolved, url: `${resolved.url}?planted=${current.tag}` } : resolved;
    },
    load(url, context, nextLoad) {
      const loaded = nextLoad(url, context);
      if (!current || !url.endsWith(`?planted=${current.tag}`)) return loaded;
      let source = String(loaded.source);
      if (url === `${root}${current.file}?planted=${current.tag}`) source = source.replace(current.find, current.replace);
      if (loaded.format !== 'module-typescript') return { ...loaded, source };
      // Every copy strips the same files: once per text here, where Node.js's own cache
      // (keyed by each copy's URL) would strip them again for every bug.
      let stripped = strippedTexts.get(source);
      if (stripped === undefined) strippedTexts.set(source, (stripped = stripTypeScriptTypes(source)));
      return { ...loaded, format: 'module', source: stripped };
    },
  });
  await tolerateRedefinedTypes();
  const scrub = (error: SerializedError): SerializedError => {
    const clean = (text: string | undefined) => text?.replace(PLANTED_QUERY, '');
    return { ...error, name: error.name, message: clean(error.message)!, stack: clean(error.stack)!, details: clean(error.details), what: clean(error.what), note: clean(error.note) };
  };

  const directory = join(process.cwd(), 'checks', chapterDir);
  const files = readdirSync(directory).filter((f) => f.endsWith('.check.ts')).sort();
  /** Imports the chapter's check files (for `current`'s copy); returns the first that would not load. */
  const importChecks = async (): Promise<{ file: string; error: unknown } | undefined> => {
    registry.checks.length = 0;
    let failed: { file: string; error: unknown } | undefined;
    for (const file of files) {
      registry.file = `checks/${chapterDir}/${file}`;
      const url = pathToFileURL(join(directory, file)).href;
      try {
        await import(current ? `${url}?planted=${current.tag}` : url);
      } catch (error) {
        failed ??= { file: registry.file, error };
      }
    }
    return failed;
  };
  const named = (name: string) => registry.checks.find((c) => c.name === name && (!c.options.arches || c.options.arches.includes(arch)));

  // The list comes from the checks as they are: names, hints and budgets do not depend on the bug.
  const unplanted = await importChecks();
  if (unplanted) send({ t: 'file-error', file: unplanted.file, error: serializeError(unplanted.error) });
  send({
    t: 'list',
    checks: items.map((item) => {
      const c = named(item.check);
      return { name: item.check, file: c?.file ?? '', points: c?.options.points ?? 1, hints: c ? hintsFor(c.options.hints, arch) : [], timeoutMs: timeLimit(c?.options ?? {}, mode) };
    }),
  });

  let running = -1;
  registry.onOutcome = (outcome) => {
    if (running >= 0) send({ t: 'outcome', index: running, ...outcome });
  };
  for (let index = from; index < items.length; index++) {
    const item = items[index]!;
    running = index;
    current = item;
    trace.clear();
    send({ t: 'start', index });
    const unloaded = await importChecks();
    const check = named(item.check);
    if (!check) {
      // Not a failure of the check: the self-test counts it as a bug not caught.
      const why = unloaded ? `${unloaded.file} did not load: ${String(unloaded.error)}` : `checks/${chapterDir} has no check named '${item.check}' on ${arch}`;
      send({ t: 'end', index, ms: 0, error: scrub({ name: PLANTED_SETUP_ERROR, message: why, stack: '' }) });
      continue;
    }
    trace.clear();
    send({ t: 'ready', index });
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    try {
      await check.body({ arch, mode, random: seededRandom(check.name) });
      send({ t: 'end', index, ms: performance.now() - started, cpuMs: cpuSince(cpuStarted) });
    } catch (error) {
      send({ t: 'end', index, ms: performance.now() - started, cpuMs: cpuSince(cpuStarted), error: scrub(serializeError(error)) });
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
