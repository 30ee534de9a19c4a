/**
 * npm run hint chapter-NN [check]
 *
 * One more rung of a check's hint ladder per call: first the concept, then where to look,
 * then nearly the answer. Without a check, the first failing check of the latest results
 * (`npm run check` records them). The rungs shown are recorded in `.workbook/hints.json`;
 * they appear as `hintsUsed` in the JSON results and in an instructor's grades.
 */
import { pathToFileURL } from 'node:url';
import { ARCH_NAMES, ARCHES, hostArch, type Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import type { Chapter } from '../manifest.ts';
import type { CheckResult, ListedCheck } from '../harness/protocol.ts';
import { firstFailure, shownHint } from '../harness/report.ts';
import { failureHint, isLoadFailure } from '../harness/diagnose.ts';
import { bookPage } from './progress.ts';
import { listChecks } from './listing.ts';
import { chapterArgument, color, positionals, runMain, UserError, workbookRoot } from './main.ts';
import { latestGroup, readHints, recordHint } from './state.ts';

const RUNG_NAMES = ['the concept', 'where to look', 'nearly the answer'];
const rungName = (n: number) => RUNG_NAMES[n - 1] ?? `hint ${n}`;

/** Architectures in the order to consult them: this machine's first. */
function archOrder(): Arch[] {
  const host = hostArch();
  return [host, ...ARCHES.filter((a) => a !== host)];
}

/** The first failing (then todo) check in the latest results, with where it failed. */
export function firstFailing(root: string, chapter: Chapter): CheckResult | undefined {
  const recorded = archOrder().flatMap((arch) => latestGroup(root, chapter.number, arch)?.results ?? []);
  return firstFailure(recorded);
}

/** The check a learner means by `text`: its number, its exact name, or a unique part of it. */
export function matchCheck(checks: readonly ListedCheck[], text: string): ListedCheck | ListedCheck[] | undefined {
  if (/^\d+$/.test(text)) return checks[Number(text) - 1];
  const exact = checks.find((c) => c.name === text);
  if (exact) return exact;
  const lower = text.toLowerCase();
  const partial = checks.filter((c) => c.name.toLowerCase().includes(lower));
  return partial.length === 1 ? partial[0] : partial.length ? partial : undefined;
}

/** The checks of a chapter on every architecture that can list them, host first, without duplicates. */
async function allChecks(root: string, chapter: Chapter, needed?: (checks: ListedCheck[]) => boolean): Promise<ListedCheck[]> {
  const checks: ListedCheck[] = [];
  for (const arch of archOrder()) {
    if (!availability(arch, root).available) continue;
    for (const c of await listChecks(root, chapter, arch)) if (!checks.some((k) => k.name === c.name)) checks.push(c);
    if (!needed || needed(checks)) break;
  }
  return checks;
}

export interface HintShown {
  check: string;
  rung: number;
  of: number;
  text: string;
  earlier: string[];
}

/**
 * Shows the next rung for `check` and records it. `alreadyShown` is how many rungs the
 * learner has read without asking (the check report shows the first): the next call starts
 * after them.
 */
export function nextHint(root: string, chapter: Chapter, check: ListedCheck, alreadyShown = 0): HintShown | undefined {
  if (check.hints.length === 0) return undefined;
  const used = readHints(root)[chapter.number]?.[check.name] ?? 0;
  const rung = Math.min(Math.max(used, alreadyShown) + 1, check.hints.length);
  recordHint(root, chapter.number, check.name, rung);
  return { check: check.name, rung, of: check.hints.length, text: check.hints[rung - 1]!, earlier: check.hints.slice(0, rung - 1) };
}

const USAGE = `usage: npm run hint chapter-NN [check]

  chapter-NN   the chapter (chapter-01, 1, executable-memory …)
  check        a check's number, name, or part of its name; default: the first failing
               check of your latest \`npm run check\`
Each call shows the next rung: the concept, then where to look, then nearly the answer.`;

async function main(): Promise<number> {
  const [name, ...rest] = positionals(process.argv.slice(2), []);
  const chapter = chapterArgument(name);
  const root = workbookRoot;
  const wanted = rest.join(' ').trim();
  const command = `npm run hint chapter-${chapter.number}`;

  let target: ListedCheck | undefined;
  let failing: CheckResult | undefined;
  if (wanted) {
    const checks = await allChecks(root, chapter, (list) => matchCheck(list, wanted) !== undefined && !Array.isArray(matchCheck(list, wanted)));
    const match = matchCheck(checks, wanted);
    if (Array.isArray(match)) {
      throw new UserError(`'${wanted}' matches ${match.length} checks; say which:\n${match.map((c) => `  ${command} "${c.name}"`).join('\n')}`);
    }
    if (!match) {
      throw new UserError(`chapter ${chapter.number} has no check '${wanted}'. Its checks:\n${checks.map((c, i) => `  ${String(i + 1).padStart(2)}. ${c.name}`).join('\n')}`);
    }
    target = match;
  } else {
    failing = firstFailing(root, chapter);
    const anyRecorded = archOrder().some((arch) => latestGroup(root, chapter.number, arch));
    if (!failing && anyRecorded) {
      console.log(`${color.green('every check of chapter ' + chapter.number + ' passed')} in your latest run: no hint needed.`);
      console.log(`compare with the reference: npm run solution chapter-${chapter.number}`);
      return 0;
    }
    const checks = await allChecks(root, chapter, (list) => !failing || list.some((c) => c.name === failing!.check));
    if (!failing) {
      console.log(color.yellow(`no results of chapter ${chapter.number} yet (run npm run check chapter-${chapter.number}); hints for its first check:`));
      target = checks[0];
    } else {
      target = checks.find((c) => c.name === failing!.check);
    }
    if (!target) throw new UserError(`the check '${failing?.check ?? ''}' is not among chapter ${chapter.number}'s checks any more; run npm run check chapter-${chapter.number} again`);
  }

  if (failing && isLoadFailure(failing)) {
    // No check ran: the check's own hints would answer a question nobody asked yet.
    console.log(color.bold(`chapter ${chapter.number}: your code does not load`));
    console.log(color.dim(failing.message.split('\n')[0]));
    console.log(`\n${color.cyan('hint:')}\n  ${failureHint(failing)}`);
    return 0;
  }
  console.log(color.bold(`chapter ${chapter.number} · ${target.name}`));
  // What the check report already showed under this failure: the first rung, or a hint for the failure itself.
  // (A todo's report shows no hint.)
  const reported = failing?.status === 'fail' ? shownHint(failing) : undefined;
  if (failing) {
    const where = `${failing.status === 'todo' ? 'todo' : 'failing'} on ${ARCH_NAMES[failing.arch]}`;
    console.log(color.dim(`${where}: ${failing.message.split('\n')[0]}`));
    if (reported && reported !== target.hints[0]) console.log(color.dim(`\nthe check report's hint for this failure:\n  ${reported}`));
  }
  const shown = nextHint(root, chapter, target, reported !== undefined && reported === target.hints[0] ? 1 : 0);
  if (!shown) {
    console.log(`this check has no hints; read ${bookPage(root, chapter)} and the check itself in ${target.file}`);
    return 0;
  }
  for (const [i, text] of shown.earlier.entries()) console.log(color.dim(`\nhint ${i + 1} of ${shown.of} (${rungName(i + 1)}):\n  ${text}`));
  console.log(`\n${color.cyan(`hint ${shown.rung} of ${shown.of} (${rungName(shown.rung)}):`)}\n  ${shown.text}`);
  const again = `${command}${wanted ? ` "${target.name}"` : ''}`;
  if (shown.rung < shown.of) console.log(color.dim(`\nstill stuck? ${again} shows hint ${shown.rung + 1} (${rungName(shown.rung + 1)}); the book: ${bookPage(root, chapter)}`));
  else console.log(color.dim(`\nthat was the last hint. The check itself is in ${target.file}; the book page is ${bookPage(root, chapter)}`));
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMain(main, USAGE);
