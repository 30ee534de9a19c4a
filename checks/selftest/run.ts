/**
 * npm test: proves the workbook holds together.
 *
 *   1. typecheck        scaffolds and solutions both typecheck, with the same signatures
 *   2. unit tests       the harness's and the book builder's own uvu tests
 *   3. solutions        every chapter's checks pass on solutions/, on both architectures
 *   4. pristine         every chapter's checks fail (or are todo) on the untouched chapters/
 *   5. planted bugs     each known bug planted into a solution is caught by some check
 *   6. crash isolation  planted crashes become failed checks with signal and offset,
 *                       and the other checks still pass
 *
 * Options: --quick skips 5; --only <step> runs one step (typecheck, unit, solutions,
 * pristine, planted, crash); --chapters 1-3 limits steps 3–5 to those chapters.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHAPTERS, chapterDir, parseChapterRanges, type Chapter } from '../manifest.ts';
import { closingLine, color, formatGroup } from '../harness/report.ts';
import { ALL_ARCHES, hasChecks, runSession, stageWorkspace } from '../harness/session.ts';
import type { CheckResult } from '../harness/protocol.ts';
import { ARCH_NAMES } from '#native/arch.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const quick = args.includes('--quick');

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

function groups(results: CheckResult[]): Map<string, CheckResult[]> {
  const map = new Map<string, CheckResult[]>();
  for (const r of results) {
    const key = `chapter ${r.chapter} on ${ARCH_NAMES[r.arch]}`;
    map.set(key, [...(map.get(key) ?? []), r]);
  }
  return map;
}

if (step('solutions')) {
  const start = performance.now();
  const results = await runSession({ root, chapters, arches: ALL_ARCHES, solutions: true });
  for (const [name, group] of groups(results)) {
    const ok = group.every((r) => r.status === 'pass');
    outcome(`${name}: ${group.filter((r) => r.status === 'pass').length}/${group.length} checks pass on solutions/`, ok);
    if (!ok) console.log(formatGroup(group.filter((r) => r.status !== 'pass')));
  }
  console.log(color.dim(`  (${seconds(start)})`));
}

if (step('pristine')) {
  const start = performance.now();
  const results = await runSession({ root, chapters, arches: ALL_ARCHES });
  for (const [name, group] of groups(results)) {
    const passing = group.filter((r) => r.status === 'pass' || r.status === 'skip');
    outcome(`${name}: all ${group.length} checks fail or are todo on the pristine chapters/`, passing.length === 0);
    if (passing.length) console.log(passing.map((r) => `      ${r.status}: ${r.check}`).join('\n'));
  }
  console.log(color.dim(`  (${seconds(start)})`));
}

/** A bug planted into a copy of a solution file; some check of the chapter must catch it. */
interface PlantedBug {
  file: string;
  find: string;
  replace: string;
  why: string;
}

if (step('planted') && !quick) {
  for (const chapter of chapters) {
    const manifest = join(root, 'checks', chapterDir(chapter), 'planted-bugs.json');
    if (!existsSync(manifest)) continue;
    const bugs = JSON.parse(readFileSync(manifest, 'utf8')) as PlantedBug[];
    for (const bug of bugs) {
      const start = performance.now();
      const staged = stageWorkspace(root, root);
      try {
        const target = join(staged.root, bug.file);
        const source = readFileSync(target, 'utf8');
        if (!source.includes(bug.find)) {
          outcome(`chapter ${chapter.number}: planted bug '${bug.why}'`, false, `the text to replace is not in ${bug.file} any more`);
          continue;
        }
        writeFileSync(target, source.replace(bug.find, bug.replace));
        // The first failure is proof enough; stopping there spares the hangs a bug can cause.
        const results = await runSession({ root: staged.root, chapters: [chapter], arches: ALL_ARCHES, solutions: true, stopAt: 'fail' });
        const caught = results.filter((r) => r.status === 'fail');
        outcome(`chapter ${chapter.number}: planted bug '${bug.why}' is caught`, caught.length > 0, caught.length ? `by '${caught[0]!.check}', ${seconds(start)}` : 'no check failed');
      } finally {
        staged.remove();
      }
    }
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
