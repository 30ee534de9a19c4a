/**
 * npm run reset chapter-NN
 *
 * Restores the pristine scaffold of one chapter (see pristine.ts for where it comes from),
 * after saving the learner's files to `.workbook/backups/<time>/chapters/NN-slug/`. Files
 * the learner added to the chapter's folder are backed up and removed too, so the folder is
 * exactly the scaffold again. No other chapter is touched. The chapter's recorded results
 * are forgotten (they described code that is gone); the hints used are kept.
 */
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chapterDir, type Chapter } from '../manifest.ts';
import { chapterArgument, color, positionals, runMain, UserError, workbookRoot } from './main.ts';
import { pristineFiles } from './pristine.ts';
import { forgetResults, listFiles, stateDir } from './state.ts';

export interface ResetOutcome {
  /** The backup folder of the learner's files (undefined if the chapter folder was missing). */
  backup?: string;
  restored: string[];
  removed: string[];
  source: string;
}

/** `2026-11-22T10-30-00`: a timestamp safe in a file name. */
function stamp(date: Date): string {
  return date.toISOString().slice(0, 19).replaceAll(':', '-');
}

export function resetChapter(root: string, chapter: Chapter, now = new Date()): ResetOutcome {
  const pristine = pristineFiles(root, chapter); // first, so nothing moves if there is no pristine copy
  const folder = join(root, 'chapters', chapterDir(chapter));
  const current = listFiles(folder);
  let backup: string | undefined;
  if (current.length) {
    let base = join(stateDir(root), 'backups', stamp(now));
    for (let n = 2; existsSync(join(base, 'chapters', chapterDir(chapter))); n++) base = join(stateDir(root), 'backups', `${stamp(now)}-${n}`);
    backup = join(base, 'chapters', chapterDir(chapter));
    mkdirSync(dirname(backup), { recursive: true });
    cpSync(folder, backup, { recursive: true });
  }
  const removed = current.filter((f) => !pristine.files.has(f));
  rmSync(folder, { recursive: true, force: true });
  for (const [file, contents] of pristine.files) {
    mkdirSync(dirname(join(folder, file)), { recursive: true });
    writeFileSync(join(folder, file), contents);
  }
  forgetResults(root, chapter.number);
  return { ...(backup ? { backup } : {}), restored: [...pristine.files.keys()], removed, source: pristine.source };
}

const USAGE = `usage: npm run reset chapter-NN

Restores the untouched scaffold of one chapter. Your files are saved first to
.workbook/backups/<date>/chapters/NN-slug/. Other chapters are not touched.`;

async function main(): Promise<number> {
  const [name] = positionals(process.argv.slice(2), []);
  const chapter = chapterArgument(name);
  let outcome: ResetOutcome;
  try {
    outcome = resetChapter(workbookRoot, chapter);
  } catch (error) {
    if (error instanceof Error && /no pristine copy/.test(error.message)) throw new UserError(error.message);
    throw error;
  }
  const rel = (p: string) => p.slice(workbookRoot.length + 1);
  if (outcome.backup) console.log(`your files are saved in ${color.bold(rel(outcome.backup) + '/')}`);
  console.log(`chapters/${chapterDir(chapter)}/ is the pristine scaffold again (${outcome.restored.length} file${outcome.restored.length === 1 ? '' : 's'}, from ${outcome.source})`);
  if (outcome.removed.length) console.log(color.dim(`removed files that are not part of the scaffold (they are in the backup): ${outcome.removed.join(', ')}`));
  console.log(`\nnext: read book/${chapterDir(chapter)}.md, then npm run check chapter-${chapter.number}`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMain(main, USAGE);
