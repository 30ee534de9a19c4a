/**
 * npm run solution chapter-NN
 *
 * Once a chapter passes (the latest results: every check passes on every architecture this
 * machine can run), shows the reference solution beside the learner's code as a unified
 * diff (colored on a terminal), then a note on the choices the reference makes
 * (`checks/NN-slug/solution-notes.md`). Before that, says what is left and offers a hint.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ARCH_NAMES, ARCHES, type Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import { chapterDir, type Chapter } from '../manifest.ts';
import { unifiedDiff } from './diff.ts';
import { chapterArgument, color, positionals, runMain, workbookRoot } from './main.ts';
import { chapterModified, latestGroup, listFiles } from './state.ts';

export interface PassState {
  passed: boolean;
  /** One line per architecture: what the latest results say. */
  lines: string[];
  stale: boolean;
}

/** Whether the chapter passes on every architecture this machine can run, by the latest results. */
export function passState(root: string, chapter: Chapter): PassState {
  const lines: string[] = [];
  let passed = true;
  let ranSomewhere = false;
  let stale = false;
  for (const arch of ARCHES as readonly Arch[]) {
    const found = availability(arch, root);
    const record = latestGroup(root, chapter.number, arch);
    const results = record?.results.filter((r) => r.status !== 'skip') ?? [];
    if (!found.available && results.length === 0) {
      lines.push(`${ARCH_NAMES[arch]}: cannot run on this machine (not required)`);
      continue;
    }
    if (!record || results.length === 0) {
      passed = false;
      lines.push(`${ARCH_NAMES[arch]}: not checked yet`);
      continue;
    }
    ranSomewhere = true;
    if (chapterModified(root, chapter) > Date.parse(record.at)) stale = true;
    const ok = results.filter((r) => r.status === 'pass').length;
    if (ok < results.length) passed = false;
    lines.push(`${ARCH_NAMES[arch]}: ${ok} of ${results.length} checks pass`);
  }
  return { passed: passed && ranSomewhere, lines, stale };
}

/** The reference without the `// @book:start/end` lines that only the book builder reads. */
function withoutBookMarkers(source: string): string {
  return source.replace(/^[ \t]*\/\/ @book:(?:start|end) [^\n]*\n/gm, '');
}

/** The learner's files beside the reference's, as one diff text. */
export function solutionDiff(root: string, chapter: Chapter, colored: boolean): string {
  const dir = chapterDir(chapter);
  const mine = join(root, 'chapters', dir);
  const reference = join(root, 'solutions', dir);
  const files = [...new Set([...listFiles(reference), ...listFiles(mine)])].sort();
  const parts: string[] = [];
  for (const file of files) {
    const a = join(mine, file);
    const b = join(reference, file);
    if (!existsSync(b)) {
      parts.push(color.dim(`chapters/${dir}/${file}: yours only (the reference has no such file)`));
      continue;
    }
    if (!existsSync(a)) {
      parts.push(color.dim(`solutions/${dir}/${file}: the reference only (you have no such file)`));
      continue;
    }
    const diff = unifiedDiff(readFileSync(a, 'utf8'), withoutBookMarkers(readFileSync(b, 'utf8')), `chapters/${dir}/${file} (yours)`, `solutions/${dir}/${file} (reference)`, { colored });
    parts.push(diff || color.dim(`${file}: identical to the reference`));
  }
  return parts.join('\n\n');
}

async function main(): Promise<number> {
  const [name] = positionals(process.argv.slice(2), []);
  const chapter = chapterArgument(name);
  const root = workbookRoot;
  const state = passState(root, chapter);
  const dir = chapterDir(chapter);
  if (!state.passed) {
    console.log(`chapter ${chapter.number} does not pass yet, so its reference solution stays closed:`);
    for (const line of state.lines) console.log(`  ${line}`);
    console.log(`\nrun the checks:  npm run check chapter-${chapter.number}`);
    console.log(`stuck? a hint:   npm run hint chapter-${chapter.number}   (one rung per call)`);
    console.log(color.dim(`skipped chapter ${chapter.number} on purpose? later chapters can lean on its reference: npm run check <chapter> -- --use-ref ${Number(chapter.number)}`));
    return 1;
  }
  console.log(color.bold(`chapter ${chapter.number} · ${chapter.title}: your code beside the reference`));
  console.log(color.dim(state.lines.join(' · ')));
  if (state.stale) console.log(color.yellow(`you edited chapters/${dir}/ after your last passing run; npm run check chapter-${chapter.number} to be sure it still passes.`));
  console.log(color.dim(`lines starting with - are yours, + the reference's\n`));
  console.log(solutionDiff(root, chapter, true));
  const notes = join(root, 'checks', dir, 'solution-notes.md');
  if (existsSync(notes)) console.log(`\n${color.bold('about the reference')}\n\n${readFileSync(notes, 'utf8').trim()}`);
  console.log(color.dim(`\nnext: npm run progress`));
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMain(main);
