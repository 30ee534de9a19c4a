/**
 * npm test: proves the workbook holds together.
 *
 *   1. typecheck        scaffolds and solutions both typecheck, with the same signatures
 *   2. unit tests       the harness's and the book builder's own uvu tests
 *   3. solutions        every chapter's checks pass on solutions/, on both architectures
 *   4. pristine         every chapter's checks fail (or are todo) on the untouched chapters/,
 *                       with the reference standing in for the chapters before it
 *   5. planted bugs     each known bug planted into a solution is caught by the check it
 *                       names, on each architecture it names (only that check runs, in a
 *                       fresh copy of the code with the bug in it; one worker runs a batch
 *                       of a chapter's bugs in turn, so its start-up is paid once a batch),
 *                       and the hint its report shows first is the one the bug records
 *   6. crash isolation  planted crashes become failed checks with signal and offset,
 *                       and the other checks still pass
 *
 * The steps share the machine's cores (two lanes, up to four on a larger machine: one worker
 * process or command in each) and overlap: each queues all its work at once, in step order,
 * the longest jobs of a step first, so no core waits for the last job of a step. Each step
 * reports in order all the same, with the time its jobs held a lane; the solutions step
 * gives each chapter's time in its checks and their CPU time per architecture.
 *
 * Options: --quick skips 5; --only <step> runs one step (typecheck, unit, solutions,
 * pristine, planted, crash); --chapters 1-3 limits steps 3–5 to those chapters;
 * --bugs TEXT runs only the planted bugs whose "why" holds TEXT; --record-hints (with step 5) writes the hint each bug's report shows first into its
 * `firstHint` where it has none, for a person to review (see PlantedBug).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHAPTERS, chapterDir, parseChapterRanges, type Chapter } from '../manifest.ts';
import { closingLine, color, formatGroup, shownHint } from '../harness/report.ts';
import { ALL_ARCHES, conditionsFor, hasChecks, runSession, stageWorkspace } from '../harness/session.ts';
import { runChapter } from '../harness/runner.ts';
import { Lanes } from '../harness/lanes.ts';
import { PLANTED_SETUP_ERROR, type CheckResult, type PlantedItem } from '../harness/protocol.ts';
import { ARCH_NAMES, isArch, type Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const args = process.argv.slice(2);

// Anything this runner does not know stops it before a step starts: a mistyped option must
// not set off the whole self-test.
const KNOWN = new Set(['--quick', '--only', '--chapters', '--bugs', '--record-hints']);
const VALUED = new Set(['--only', '--chapters', '--bugs']);
const STEPS = ['typecheck', 'unit', 'solutions', 'pristine', 'planted', 'crash'];
const unknown = args.filter((arg, i) => !KNOWN.has(arg) && !VALUED.has(args[i - 1] ?? ''));
if (unknown.length > 0 || (args.includes('--only') && !STEPS.includes(args[args.indexOf('--only') + 1] ?? ''))) {
  const usage = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*\n?|^ \* ?/gm, '');
  if (!args.includes('--help') && !args.includes('-h')) console.error(`unknown option ${unknown[0] ?? `--only ${args[args.indexOf('--only') + 1] ?? ''}`}\n`);
  console.error(usage.trimEnd());
  process.exit(args.includes('--help') || args.includes('-h') ? 0 : 2);
}
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const quick = args.includes('--quick');
const recordHints = args.includes('--record-hints');
/** --bugs TEXT: only the planted bugs whose "why" contains TEXT. */
const bugFilter = args.includes('--bugs') ? (args[args.indexOf('--bugs') + 1] ?? '') : undefined;

let passed = 0;
let failed = 0;
const failures: string[] = [];

/**
 * Every step starts at once and queues its work (worker processes, commands) on the same
 * lanes, in the order of the steps: a lane that one step's last long job leaves idle takes
 * the next step's first job. What a step prints is held back until the steps before it have
 * printed theirs, so the report reads in step order.
 */
const lanes = new Lanes(Math.min(4, Math.max(2, availableParallelism())));
const started = performance.now();

interface StepOutput {
  lines: string[];
  /** Prints at once: every step before it is done. */
  live: boolean;
  done: boolean;
  /** The time its jobs held a lane. */
  account: { ms: number };
}
const outputs: StepOutput[] = [];
const currentStep = new AsyncLocalStorage<StepOutput>();
const steps: Promise<void>[] = [];

/** Prints a line of the step that is running (held back while an earlier step is not done). */
function log(text: string): void {
  const out = currentStep.getStore();
  if (out === undefined || out.live) console.log(text);
  else out.lines.push(text);
}

/** Prints what the steps in order may print now: each done step whole, then the first one not done, which goes on live. */
function flushSteps(): void {
  for (const out of outputs) {
    if (!out.live) {
      out.live = true;
      for (const line of out.lines.splice(0)) console.log(line);
    }
    if (!out.done) break;
  }
}

function outcome(name: string, ok: boolean, detail = ''): void {
  if (ok) passed++;
  else {
    failed++;
    failures.push(name);
  }
  log(`  ${ok ? color.green('✓') : color.red('✗')} ${name}${detail ? color.dim(`  ${detail}`) : ''}`);
}

/** Starts step `name` (unless --only names another): its body queues its jobs on the lanes. */
function step(name: string, body: (account: { ms: number }) => Promise<void>): void {
  if (only && only !== name) return;
  const out: StepOutput = { lines: [color.bold(`\n${name}`)], live: false, done: false, account: { ms: 0 } };
  outputs.push(out);
  steps.push(
    currentStep.run(out, async () => {
      try {
        await body(out.account);
        log(color.dim(`  (${(out.account.ms / 1000).toFixed(1)} s in lanes; done ${seconds(started)} after the start)`));
      } finally {
        out.done = true;
        flushSteps();
      }
    }),
  );
  flushSteps();
}

const chosen = args.includes('--chapters') ? parseChapterRanges(args[args.indexOf('--chapters') + 1] ?? '') : CHAPTERS;
const chapters = chosen.filter((c) => hasChecks(root, c));
const seconds = (start: number) => `${((performance.now() - start) / 1000).toFixed(1)} s`;

/** The time a group's checks took, and the CPU time their worker spent on them where it said. */
function groupTime(group: readonly CheckResult[]): string {
  const ms = group.reduce((sum, r) => sum + r.ms, 0);
  const cpu = group.reduce((sum, r) => sum + (r.cpuMs ?? 0), 0);
  return `${(ms / 1000).toFixed(1)} s in its checks${cpu > 0 ? `, ${(cpu / 1000).toFixed(1)} s of CPU` : ''}`;
}

/** Runs a command to its end, without blocking: some run side by side. */
function startCommand(command: string, commandArgs: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: root });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', (error) => resolve({ ok: false, output: `${output}${error.message}` }));
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}

step('typecheck', async (account) => {
  // The two projects side by side: the compiler is single-threaded.
  const projects = ['tsconfig.json', 'tsconfig.solutions.json'];
  const runs = projects.map((project) =>
    lanes.run(() => {
      const begun = performance.now();
      return startCommand(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project]).then((r) => ({ ...r, time: seconds(begun) }));
    }, account),
  );
  for (const [i, run] of runs.entries()) {
    const { ok, output, time } = await run;
    outcome(`tsc -p ${projects[i]}`, ok, time);
    if (!ok) log(output);
  }
});

/**
 * The unit tests that take longest, queued first so that the others fill the other lane
 * meanwhile. Each test works in folders of its own under the system's temporary directory,
 * so any two run side by side.
 */
const UNIT_FIRST = ['sandbox.test.ts', 'book-browser.test.ts'];

step('unit', async (account) => {
  const dir = join(root, 'checks', 'selftest');
  const files = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort();
  const queued = [...UNIT_FIRST.filter((f) => files.includes(f)), ...files.filter((f) => !UNIT_FIRST.includes(f))];
  const runs = new Map(
    queued.map((file) => [
      file,
      lanes.run(async () => {
        const begun = performance.now();
        return { begun, ...(await startCommand(process.execPath, ['--import', 'tsx', join(dir, file)])), time: seconds(begun) };
      }, account),
    ]),
  );
  // Reported in the order of the files' names, as each and those before it end.
  for (const file of files) {
    const { ok, output, time } = await runs.get(file)!;
    const summary = /Total:\s+(\d+)[\s\S]*?Passed:\s+(\d+)/.exec(output.replace(/\x1b\[[0-9;]*m/g, ''));
    outcome(`checks/selftest/${file}`, ok, `${summary ? `${summary[2]}/${summary[1]} tests, ` : ''}${time}`);
    if (!ok || /SKIP/.test(output)) log(output.split('\n').filter((l) => !ok || /SKIP/.test(l)).join('\n'));
  }
});

step('solutions', async (account) => {
  await runSession({
    root,
    chapters,
    arches: ALL_ARCHES,
    solutions: true,
    lanes,
    account,
    longestFirst: true,
    onGroupDone: (chapter, arch, group) => {
      const ok = group.every((r) => r.status === 'pass');
      const name = `chapter ${chapter.number} on ${ARCH_NAMES[arch]}`;
      outcome(`${name}: ${group.filter((r) => r.status === 'pass').length}/${group.length} checks pass on solutions/`, ok, groupTime(group));
      if (!ok) log(formatGroup(group.filter((r) => r.status !== 'pass')));
    },
  });
});

step('pristine', async (account) => {
  // Chapter N runs with the reference for chapters 1..N-1, so what fails is N's own scaffold.
  const sessions = chapters.map((chapter) => {
    if (chapter.draft) {
      log(color.dim(`  chapter ${chapter.number} is a draft: its scaffold is not proved yet`));
      return undefined;
    }
    const earlier = CHAPTERS.filter((c) => c.number < chapter.number);
    return runSession({
      root,
      chapters: [chapter],
      arches: ALL_ARCHES,
      useRef: earlier,
      lanes,
      account,
      longestFirst: true,
      onGroupDone: (_chapter, arch, group) => {
        const passing = group.filter((r) => r.status === 'pass' || r.status === 'skip');
        const refs = earlier.length ? ` (reference for ${earlier.length === 1 ? 'chapter 01' : `chapters 01-${earlier.at(-1)!.number}`})` : '';
        outcome(`chapter ${chapter.number} on ${ARCH_NAMES[arch]}: all ${group.length} checks fail or are todo on the pristine chapters/${refs}`, passing.length === 0);
        if (passing.length) log(passing.map((r) => `      ${r.status}: ${r.check}`).join('\n'));
      },
    });
  });
  await Promise.all(sessions);
});

/**
 * A bug planted into a copy of a solution file. `check` names the check that must catch
 * it, on each of `arches` (default: both; one only where the code is ISA-specific).
 * `firstHint` is the hint a learner who made this mistake should see first: the report of
 * the failure must show a hint that begins with this text (compared with runs of white space
 * made one space), on every architecture, or one text per architecture where they differ;
 * null where the check shows no hint. It is chosen for the bug, not copied from whatever
 * the report shows (--record-hints fills it in from a run, for a person to review).
 */
interface PlantedBug {
  file: string;
  find: string;
  replace: string;
  why: string;
  check?: string;
  arches?: Arch[];
  firstHint?: FirstHint;
}

type FirstHint = string | null | Partial<Record<Arch, string | null>>;

const squeeze = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The hint recorded for `arch`, or undefined when the bug records none. */
function recordedHint(bug: PlantedBug, arch: Arch): string | null | undefined {
  const recorded = bug.firstHint;
  if (recorded === undefined || recorded === null || typeof recorded === 'string') return recorded;
  return recorded[arch];
}

/** What a bug records of a hint: its beginning, up to 80 characters, cut at a word. */
function hintBeginning(hint: string | undefined): string | null {
  if (hint === undefined) return null;
  const text = squeeze(hint);
  if (text.length <= 80) return text;
  const cut = text.slice(0, 81);
  return cut.slice(0, cut.lastIndexOf(' ')).replace(/[\s,;:]+$/, '');
}

/** Whether the hint shown is the one recorded: it begins with the recorded text. */
function hintMatches(recorded: string | null, shown: string | undefined): boolean {
  if (recorded === null) return shown === undefined;
  return shown !== undefined && squeeze(shown).startsWith(squeeze(recorded));
}

type Shown = Partial<Record<Arch, string | undefined>>;

/** What one architecture made of a planted bug. */
interface ArchVerdict {
  arch: Arch;
  /** The named check failed (not todo, not a check that would not load). */
  caught: boolean;
  /** This machine cannot run the architecture. */
  skipped: boolean;
  status: string;
  hint: string | undefined;
}

/** One architecture's verdict on a bug from the result of its named check (undefined: none came back). */
function archVerdict(arch: Arch, named: CheckResult | undefined, mine: readonly CheckResult[]): ArchVerdict {
  const skipped = mine.length > 0 && mine.every((r) => r.status === 'skip');
  const setup = named?.message.startsWith(`${PLANTED_SETUP_ERROR}: `) ?? false;
  const status = setup ? named!.message.slice(PLANTED_SETUP_ERROR.length + 2) : (named?.status ?? (mine[0] ? `${mine[0].status} (${mine[0].check}: ${mine[0].message.split('\n')[0]})` : 'not run'));
  return { arch, caught: named?.status === 'fail' && !setup, skipped, status, hint: named && !setup ? shownHint(named) : undefined };
}

/**
 * Whether a bug is proved: its check failed on every architecture this machine ran, and the
 * hint the failure's report shows first is the one the bug records.
 */
function judgePlanted(bug: PlantedBug, verdicts: readonly ArchVerdict[]): { ok: boolean; detail: string; shown: Shown } {
  // An architecture this machine cannot run is reported, not held against the bug.
  const ran = verdicts.filter((v) => !v.skipped);
  const caught = ran.length > 0 && ran.every((v) => v.caught);
  const shown = Object.fromEntries(ran.map((v) => [v.arch, v.hint]));
  const wrongHints = ran.filter((v) => {
    const recorded = recordedHint(bug, v.arch);
    return recorded === undefined || !hintMatches(recorded, v.hint);
  });
  const ok = caught && (recordHints || wrongHints.length === 0);
  const skippedNote = verdicts.some((v) => v.skipped) ? ` (skipped on ${verdicts.filter((v) => v.skipped).map((v) => ARCH_NAMES[v.arch]).join(', ')})` : '';
  const hintNote = wrongHints
    .map((v) => {
      const recorded = recordedHint(bug, v.arch);
      const said = v.hint === undefined ? 'no hint' : JSON.stringify(hintBeginning(v.hint));
      return recorded === undefined ? `; it records no "firstHint" (on ${ARCH_NAMES[v.arch]} the report shows ${said})` : `; on ${ARCH_NAMES[v.arch]} the report shows ${said} first, not the recorded ${JSON.stringify(recorded)}`;
    })
    .join('');
  const detail = caught
    ? `by '${bug.check}' on ${ran.map((v) => ARCH_NAMES[v.arch]).join(' and ')}${skippedNote}${recordHints ? '' : hintNote}`
    : `'${bug.check}' ${verdicts.map((v) => `on ${ARCH_NAMES[v.arch]}: ${v.caught ? 'fail' : v.status}`).join('; ')}`;
  return { ok, detail, shown };
}

/**
 * Runs a bug that names no check in a private copy of the workbook (and restores the file):
 * the whole chapter runs until its first failure, a weaker fallback.
 */
async function runUnnamedBug(staged: { root: string }, chapter: Chapter, bug: PlantedBug, account: { ms: number }): Promise<{ ok: boolean; detail: string }> {
  const target = join(staged.root, bug.file);
  const source = readFileSync(target, 'utf8');
  try {
    writeFileSync(target, source.replace(bug.find, bug.replace));
    // The first failure is proof enough; stopping there spares the hangs a bug can cause.
    const results = await runSession({ root: staged.root, chapters: [chapter], arches: ALL_ARCHES, solutions: true, stopAt: 'fail', lanes, account });
    const caught = results.filter((r) => r.status === 'fail');
    return caught.length ? { ok: true, detail: `by '${caught[0]!.check}' on ${ARCH_NAMES[caught[0]!.arch]} (whole chapter run)` } : { ok: false, detail: 'no check failed' };
  } finally {
    writeFileSync(target, source);
  }
}

/**
 * Bugs one worker runs in turn (runner.ts ChapterRun planted): each in its own fresh copy of
 * the code, so a worker's start-up (long under emulation) is paid once per batch, not per bug.
 */
const BUGS_PER_WORKER = 16;

/** A batch of bugs of one chapter for one worker on one architecture. */
interface PlantedJob {
  chapter: Chapter;
  arch: Arch;
  entries: { bug: PlantedBug; item: PlantedItem }[];
}

/** A short name for a bug's copy of the code, the same from run to run (so the compile cache serves the next run). */
function plantedTag(bug: PlantedBug, taken: Set<string>): string {
  const base = createHash('sha256').update(JSON.stringify([bug.file, bug.find, bug.replace, bug.check])).digest('hex').slice(0, 12);
  let tag = base;
  for (let n = 2; taken.has(tag); n++) tag = `${base}-${n}`;
  taken.add(tag);
  return tag;
}

if (!quick) step('planted', async (account) => {
  const plan = chapters.flatMap((chapter) => {
    if (chapter.draft) return [];
    const manifest = join(root, 'checks', chapterDir(chapter), 'planted-bugs.json');
    if (!existsSync(manifest)) return [];
    return (JSON.parse(readFileSync(manifest, 'utf8')) as PlantedBug[]).filter((bug) => bugFilter === undefined || bug.why.includes(bugFilter)).map((bug) => ({ chapter, bug }));
  });
  for (const chapter of chapters) {
    const mine = plan.filter((p) => p.chapter === chapter).map((p) => p.bug);
    if (mine.length > 0 && mine.length < 8) log(color.yellow(`  warning: chapter ${chapter.number} has ${mine.length} planted bugs; every chapter should have at least 8`));
    const seen = new Set<string>();
    for (const bug of mine) {
      const key = JSON.stringify([bug.file, bug.find, bug.replace]);
      if (seen.has(key)) outcome(`chapter ${chapter.number}: planted bug '${bug.why}' is not a duplicate`, false, 'the same file, find and replace as another bug');
      seen.add(key);
    }
  }
  const unnamed = plan.filter((p) => !p.bug.check);
  for (const chapter of new Set(unnamed.map((p) => p.chapter))) {
    const count = unnamed.filter((p) => p.chapter === chapter).length;
    log(color.yellow(`  warning: ${count} planted bug${count === 1 ? '' : 's'} of chapter ${chapter.number} name no "check": the whole chapter runs for ${count === 1 ? 'it' : 'each'}`));
  }

  let done = 0;
  const recorded: { chapter: Chapter; bug: PlantedBug; shown: Shown }[] = [];
  const report = (chapter: Chapter, bug: PlantedBug, result: { ok: boolean; detail: string; shown?: Shown }, started?: number) => {
    if (recordHints && result.ok && result.shown && bug.firstHint === undefined) recorded.push({ chapter, bug, shown: result.shown });
    outcome(`[${++done}/${plan.length}] chapter ${chapter.number}: planted bug '${bug.why}' is caught`, result.ok, `${result.detail}${started === undefined ? '' : `, ${seconds(started)}`}`);
  };

  // What can be told before anything runs: the text to replace is gone, an unknown architecture.
  const runnable: { chapter: Chapter; bug: PlantedBug; arches: Arch[] }[] = [];
  for (const { chapter, bug } of plan.filter((p) => p.bug.check)) {
    const target = join(root, bug.file);
    const arches = bug.arches ?? ALL_ARCHES;
    const bad = arches.filter((a) => !isArch(a));
    if (!existsSync(target) || !readFileSync(target, 'utf8').includes(bug.find)) report(chapter, bug, { ok: false, detail: `the text to replace is not in ${bug.file} any more` });
    else if (bad.length) report(chapter, bug, { ok: false, detail: `unknown architecture ${bad.join(', ')} in "arches"` });
    else runnable.push({ chapter, bug, arches });
  }

  // Batches per chapter and architecture, of even sizes; the emulated ones (the long ones)
  // start first, the largest first, so that no long batch is left to run alone at the end.
  const launchers = new Map(ALL_ARCHES.map((arch) => [arch, availability(arch, root)] as const));
  const isEmulated = (arch: Arch) => {
    const found = launchers.get(arch)!;
    return found.available && found.launcher.mode === 'emulated';
  };
  const jobs: PlantedJob[] = [];
  for (const chapter of chapters) {
    for (const arch of ALL_ARCHES) {
      const taken = new Set<string>();
      const entries = runnable
        .filter((r) => r.chapter === chapter && r.arches.includes(arch))
        .map(({ bug }) => ({ bug, item: { file: bug.file, find: bug.find, replace: bug.replace, check: bug.check!, tag: plantedTag(bug, taken) } }));
      const size = Math.ceil(entries.length / Math.ceil(entries.length / BUGS_PER_WORKER));
      for (let at = 0; at < entries.length; at += size) jobs.push({ chapter, arch, entries: entries.slice(at, at + size) });
    }
  }
  jobs.sort((a, b) => Number(isEmulated(b.arch)) - Number(isEmulated(a.arch)) || b.entries.length - a.entries.length);

  // A bug is reported once every architecture it names has run it.
  const verdicts = new Map<PlantedBug, ArchVerdict[]>();
  const conditions = conditionsFor({ solutions: true });
  const settle = (job: PlantedJob, results: readonly CheckResult[], began: number) => {
    if (process.env.SHOW_FAILURES) log(formatGroup(results.filter((r) => r.status !== 'pass')));
    log(color.dim(`    chapter ${job.chapter.number} on ${ARCH_NAMES[job.arch]}: ${job.entries.length} bug${job.entries.length === 1 ? '' : 's'} in one worker, ${seconds(began)}`));
    job.entries.forEach(({ bug }, index) => {
      const list = verdicts.get(bug) ?? [];
      list.push(archVerdict(job.arch, results.find((r) => r.item === index), results));
      verdicts.set(bug, list);
      const entry = runnable.find((r) => r.bug === bug)!;
      if (list.length === entry.arches.length) {
        const inOrder = ALL_ARCHES.flatMap((arch) => list.filter((v) => v.arch === arch));
        report(job.chapter, bug, judgePlanted(bug, inOrder));
      }
    });
  };
  const runJob = async (job: PlantedJob) => {
    const began = performance.now();
    const found = launchers.get(job.arch)!;
    if (!found.available) {
      settle(job, [{ chapter: job.chapter.number, check: '(all checks)', arch: job.arch, mode: 'emulated', status: 'skip', message: `skipped: ${found.reason}`, ms: 0, points: 0 }], began);
      return;
    }
    settle(job, await runChapter({ chapter: job.chapter, launcher: found.launcher, root, conditions, planted: job.entries.map((e) => e.item) }), began);
  };
  await Promise.all(jobs.map((job) => lanes.run(() => runJob(job), account)));

  // Bugs that name no check: one private copy of the workbook, the whole chapter each.
  if (unnamed.length) {
    const staged = stageWorkspace(root, root);
    try {
      for (const { chapter, bug } of unnamed) {
        const begun = performance.now();
        if (!readFileSync(join(staged.root, bug.file), 'utf8').includes(bug.find)) report(chapter, bug, { ok: false, detail: `the text to replace is not in ${bug.file} any more` }, begun);
        else report(chapter, bug, await runUnnamedBug(staged, chapter, bug, account), begun);
      }
    } finally {
      staged.remove();
    }
  }
  if (recordHints) writeRecordedHints(recorded);
});

/**
 * Adds `"firstHint"` to each bug in `recorded`, in its manifest, right after its `"why"`, so
 * the file keeps its layout; one text where every architecture showed the same hint.
 */
function writeRecordedHints(recorded: { chapter: Chapter; bug: PlantedBug; shown: Partial<Record<Arch, string | undefined>> }[]): void {
  for (const chapter of new Set(recorded.map((r) => r.chapter))) {
    const manifest = join(root, 'checks', chapterDir(chapter), 'planted-bugs.json');
    let text = readFileSync(manifest, 'utf8');
    for (const { bug, shown } of recorded.filter((r) => r.chapter === chapter)) {
      const beginnings = Object.entries(shown).map(([arch, hint]) => [arch, hintBeginning(hint)] as const);
      const same = beginnings.every(([, b]) => b === beginnings[0]![1]);
      const value = same ? (beginnings[0]?.[1] ?? null) : Object.fromEntries(beginnings);
      const why = `"why": ${JSON.stringify(bug.why)},`;
      const at = text.indexOf(why);
      if (at < 0 || text.indexOf(why, at + 1) >= 0) {
        log(color.yellow(`  could not record the hint of '${bug.why}' in ${manifest}: its "why" is not found exactly once`));
        continue;
      }
      const lineStart = text.lastIndexOf('\n', at) + 1;
      const oneLine = text.slice(lineStart, at).trim() !== '';
      const field = `"firstHint": ${JSON.stringify(value)},`;
      const insert = oneLine ? ` ${field}` : `\n${text.slice(lineStart, at)}${field}`;
      text = text.slice(0, at + why.length) + insert + text.slice(at + why.length);
    }
    JSON.parse(text); // still JSON
    writeFileSync(manifest, text);
    log(color.dim(`  recorded hints in ${manifest}`));
  }
}

step('crash', async (account) => {
  const staged = stageWorkspace(root, root);
  try {
    const fixture = join(root, 'checks', 'selftest', 'fixtures', 'planted-crashes.check.ts');
    const chapter = CHAPTERS[0] as Chapter;
    copyFileSync(fixture, join(staged.root, 'checks', chapterDir(chapter), 'zz-planted-crashes.check.ts'));
    const results = await runSession({ root: staged.root, chapters: [chapter], arches: ALL_ARCHES, solutions: true, lanes, account, longestFirst: true });
    for (const arch of ALL_ARCHES) {
      const mine = results.filter((r) => r.arch === arch);
      const byName = (name: string) => mine.find((r) => r.check === `planted: ${name}`);
      const expectations: [string, RegExp][] = [
        ['illegal instruction', /SIGILL .*at offset 0x[0-9a-f]+ in the generated code/],
        ['endless loop', /timed out .*looping at offset 0x[0-9a-f]+ in the generated code/],
        ['stack overflow', /SIGSEGV \(stack overflow/],
        ['divide by zero', arch === 'x64' ? /SIGFPE .*at offset 0x5 / : /SIGTRAP .*at offset 0x0 /],
        ['wild jump', /SIGSEGV .*outside the generated code/],
      ];
      for (const [name, pattern] of expectations) {
        const r = byName(name);
        const ok = r?.status === 'fail' && pattern.test(r.message) && /▶|x30|registers/.test(r.details ?? '');
        outcome(`${ARCH_NAMES[arch]}: a planted ${name} is reported as a failed check`, ok, r ? r.message.slice(0, 90) : 'no result');
      }
      const others = mine.filter((r) => !r.check.startsWith('planted: ') || r.check === 'planted: between' || r.check === 'planted: after all');
      outcome(`${ARCH_NAMES[arch]}: the other checks still run and pass`, others.length > 2 && others.every((r) => r.status === 'pass'), `${others.length} checks`);
    }
  } finally {
    staged.remove();
  }
});

await Promise.all(steps);
if (failures.length) console.log(color.red(`\nfailed:\n${failures.map((f) => `  ${f}`).join('\n')}`));
console.log(`\n${closingLine({ passed, failed, todo: 0, skipped: 0 })}`);
process.exitCode = failed ? 1 : 0;
