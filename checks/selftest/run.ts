/**
 * npm test: proves the workbook holds together.
 *
 *   1. typecheck        scaffolds and solutions both typecheck, with the same signatures
 *   2. unit tests       the harness's and the book builder's own uvu tests
 *   3. solutions        every chapter's checks pass on solutions/, on both architectures
 *   4. pristine         every chapter's checks fail (or are todo) on the untouched chapters/,
 *                       with the reference standing in for the chapters before it
 *   5. planted bugs     each known bug planted into a solution is caught by the check it
 *                       names, on each architecture it names (only that check runs),
 *                       and the hint its report shows first is the one the bug records
 *   6. crash isolation  planted crashes become failed checks with signal and offset,
 *                       and the other checks still pass
 *
 * Options: --quick skips 5; --only <step> runs one step (typecheck, unit, solutions,
 * pristine, planted, crash); --chapters 1-3 limits steps 3–5 to those chapters;
 * --bugs TEXT runs only the planted bugs whose "why" holds TEXT; --record-hints (with step 5) writes the hint each bug's report shows first into its
 * `firstHint` where it has none, for a person to review (see PlantedBug).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHAPTERS, chapterDir, parseChapterRanges, type Chapter } from '../manifest.ts';
import { closingLine, color, formatGroup, shownHint } from '../harness/report.ts';
import { ALL_ARCHES, hasChecks, runSession, stageWorkspace } from '../harness/session.ts';
import { ARCH_NAMES, isArch, type Arch } from '#native/arch.ts';

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

function outcome(name: string, ok: boolean, detail = ''): void {
  if (ok) passed++;
  else {
    failed++;
    failures.push(name);
  }
  console.log(`  ${ok ? color.green('✓') : color.red('✗')} ${name}${detail ? color.dim(`  ${detail}`) : ''}`);
}

function step(name: string): boolean {
  if (only && only !== name) return false;
  console.log(color.bold(`\n${name}`));
  return true;
}

const chosen = args.includes('--chapters') ? parseChapterRanges(args[args.indexOf('--chapters') + 1] ?? '') : CHAPTERS;
const chapters = chosen.filter((c) => hasChecks(root, c));
const seconds = (start: number) => `${((performance.now() - start) / 1000).toFixed(1)} s`;

function runCommand(command: string, commandArgs: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, commandArgs, { cwd: root, encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

if (step('typecheck')) {
  for (const project of ['tsconfig.json', 'tsconfig.solutions.json']) {
    const start = performance.now();
    const { ok, output } = runCommand(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project]);
    outcome(`tsc -p ${project}`, ok, seconds(start));
    if (!ok) console.log(output);
  }
}

if (step('unit')) {
  const dir = join(root, 'checks', 'selftest');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort()) {
    const start = performance.now();
    const { ok, output } = runCommand(process.execPath, ['--import', 'tsx', join(dir, file)]);
    const summary = /Total:\s+(\d+)[\s\S]*?Passed:\s+(\d+)/.exec(output.replace(/\x1b\[[0-9;]*m/g, ''));
    outcome(`checks/selftest/${file}`, ok, `${summary ? `${summary[2]}/${summary[1]} tests, ` : ''}${seconds(start)}`);
    if (!ok || /SKIP/.test(output)) console.log(output.split('\n').filter((l) => !ok || /SKIP/.test(l)).join('\n'));
  }
}

if (step('solutions')) {
  const start = performance.now();
  await runSession({
    root,
    chapters,
    arches: ALL_ARCHES,
    solutions: true,
    onGroupDone: (chapter, arch, group) => {
      const ok = group.every((r) => r.status === 'pass');
      const name = `chapter ${chapter.number} on ${ARCH_NAMES[arch]}`;
      outcome(`${name}: ${group.filter((r) => r.status === 'pass').length}/${group.length} checks pass on solutions/`, ok);
      if (!ok) console.log(formatGroup(group.filter((r) => r.status !== 'pass')));
    },
  });
  console.log(color.dim(`  (${seconds(start)})`));
}

if (step('pristine')) {
  // Chapter N runs with the reference for chapters 1..N-1, so what fails is N's own scaffold.
  const start = performance.now();
  for (const chapter of chapters) {
    if (chapter.draft) {
      console.log(color.dim(`  chapter ${chapter.number} is a draft: its scaffold is not proved yet`));
      continue;
    }
    const earlier = CHAPTERS.filter((c) => c.number < chapter.number);
    await runSession({
      root,
      chapters: [chapter],
      arches: ALL_ARCHES,
      useRef: earlier,
      onGroupDone: (_chapter, arch, group) => {
        const passing = group.filter((r) => r.status === 'pass' || r.status === 'skip');
        const refs = earlier.length ? ` (reference for ${earlier.length === 1 ? 'chapter 01' : `chapters 01-${earlier.at(-1)!.number}`})` : '';
        outcome(`chapter ${chapter.number} on ${ARCH_NAMES[arch]}: all ${group.length} checks fail or are todo on the pristine chapters/${refs}`, passing.length === 0);
        if (passing.length) console.log(passing.map((r) => `      ${r.status}: ${r.check}`).join('\n'));
      },
    });
  }
  console.log(color.dim(`  (${seconds(start)})`));
}

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

/**
 * Runs one planted bug in a private copy of the workbook (and restores the file). With a `check`, only that check
 * runs, on the bug's architectures, and it must fail (not todo) on each; without one the
 * whole chapter runs until its first failure, as a weaker fallback.
 */
async function runPlantedBug(staged: { root: string }, chapter: Chapter, bug: PlantedBug): Promise<{ ok: boolean; detail: string; shown?: Partial<Record<Arch, string | undefined>> }> {
  const target = join(staged.root, bug.file);
  const source = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (!source.includes(bug.find)) return { ok: false, detail: `the text to replace is not in ${bug.file} any more` };
  try {
    writeFileSync(target, source.replace(bug.find, bug.replace));
    if (!bug.check) {
      // The first failure is proof enough; stopping there spares the hangs a bug can cause.
      const results = await runSession({ root: staged.root, chapters: [chapter], arches: ALL_ARCHES, solutions: true, stopAt: 'fail' });
      const caught = results.filter((r) => r.status === 'fail');
      return caught.length ? { ok: true, detail: `by '${caught[0]!.check}' on ${ARCH_NAMES[caught[0]!.arch]} (whole chapter run)` } : { ok: false, detail: 'no check failed' };
    }
    const arches = bug.arches ?? ALL_ARCHES;
    const bad = arches.filter((a) => !isArch(a));
    if (bad.length) return { ok: false, detail: `unknown architecture ${bad.join(', ')} in "arches"` };
    const results = await runSession({ root: staged.root, chapters: [chapter], arches, solutions: true, only: [bug.check] });
    if (process.env.SHOW_FAILURES) console.log(formatGroup(results.filter((r) => r.status !== 'pass')));
    const verdicts = arches.map((arch) => {
      const mine = results.filter((r) => r.arch === arch);
      const named = mine.find((r) => r.check === bug.check);
      const skipped = mine.length > 0 && mine.every((r) => r.status === 'skip');
      const status = named?.status ?? (mine[0] ? `${mine[0].status} (${mine[0].check}: ${mine[0].message.split('\n')[0]})` : 'not run');
      return { arch, caught: named?.status === 'fail', skipped, status, hint: named ? shownHint(named) : undefined };
    });
    // An architecture this machine cannot run is reported, not held against the bug.
    const ran = verdicts.filter((v) => !v.skipped);
    const caught = ran.length > 0 && ran.every((v) => v.caught);
    const shown = Object.fromEntries(ran.map((v) => [v.arch, v.hint]));
    // The hint the failure's report shows first must be the one recorded for the bug.
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
  } finally {
    writeFileSync(target, source);
  }
}

/** Planted bugs run at once (each runs its architectures side by side). */
const PLANTED_AT_ONCE = 2;

if (step('planted') && !quick) {
  const start = performance.now();
  const plan = chapters.flatMap((chapter) => {
    if (chapter.draft) return [];
    const manifest = join(root, 'checks', chapterDir(chapter), 'planted-bugs.json');
    if (!existsSync(manifest)) return [];
    return (JSON.parse(readFileSync(manifest, 'utf8')) as PlantedBug[]).filter((bug) => bugFilter === undefined || bug.why.includes(bugFilter)).map((bug) => ({ chapter, bug }));
  });
  for (const chapter of chapters) {
    const mine = plan.filter((p) => p.chapter === chapter).map((p) => p.bug);
    if (mine.length > 0 && mine.length < 8) console.log(color.yellow(`  warning: chapter ${chapter.number} has ${mine.length} planted bugs; every chapter should have at least 8`));
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
    console.log(color.yellow(`  warning: ${count} planted bug${count === 1 ? '' : 's'} of chapter ${chapter.number} name no "check": the whole chapter runs for ${count === 1 ? 'it' : 'each'}`));
  }
  // Two bugs at a time: while one waits for its emulated worker, the other uses the second core.
  let next = 0;
  let done = 0;
  // Each runner keeps one private copy of the workbook and puts the planted file back after
  // each bug: the copy's other files stay the same, so the emulated Node.js finds them in its
  // compile cache instead of compiling them again for every bug.
  const runner = async () => {
    const staged = stageWorkspace(root, root);
    try {
      while (next < plan.length) {
        const { chapter, bug } = plan[next++]!;
        const started = performance.now();
        const { ok, detail, shown } = await runPlantedBug(staged, chapter, bug);
        if (recordHints && ok && shown && bug.firstHint === undefined) recorded.push({ chapter, bug, shown });
        outcome(`[${++done}/${plan.length}] chapter ${chapter.number}: planted bug '${bug.why}' is caught`, ok, `${detail}, ${seconds(started)}`);
      }
    } finally {
      staged.remove();
    }
  };
  const recorded: { chapter: Chapter; bug: PlantedBug; shown: Partial<Record<Arch, string | undefined>> }[] = [];
  await Promise.all(Array.from({ length: PLANTED_AT_ONCE }, runner));
  if (recordHints) writeRecordedHints(recorded);
  console.log(color.dim(`  (${seconds(start)})`));
}

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
        console.log(color.yellow(`  could not record the hint of '${bug.why}' in ${manifest}: its "why" is not found exactly once`));
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
    console.log(color.dim(`  recorded hints in ${manifest}`));
  }
}

if (step('crash')) {
  const start = performance.now();
  const staged = stageWorkspace(root, root);
  try {
    const fixture = join(root, 'checks', 'selftest', 'fixtures', 'planted-crashes.check.ts');
    const chapter = CHAPTERS[0] as Chapter;
    copyFileSync(fixture, join(staged.root, 'checks', chapterDir(chapter), 'zz-planted-crashes.check.ts'));
    const results = await runSession({ root: staged.root, chapters: [chapter], arches: ALL_ARCHES, solutions: true });
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
  console.log(color.dim(`  (${seconds(start)})`));
}

if (failures.length) console.log(color.red(`\nfailed:\n${failures.map((f) => `  ${f}`).join('\n')}`));
console.log(`\n${closingLine({ passed, failed, todo: 0, skipped: 0 })}`);
process.exitCode = failed ? 1 : 0;
