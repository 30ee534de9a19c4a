/**
 * What every command of the workbook shares: where the workbook is, how a chapter is named
 * on the command line, and the guard around `main` that turns a bug in the workbook's own
 * tools into one line (never a stack trace of the runner), with a pointer to report it.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHAPTERS, findChapter, type Chapter } from '../manifest.ts';
import { color } from '../harness/report.ts';
import { hasChecks } from '../harness/session.ts';

/** The workbook's own folder (the one holding package.json). */
export const workbookRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** A mistake on the command line: shown with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Something the learner can fix, said in one message (no usage text): exit code 1. */
export class UserError extends Error {
  override readonly name = 'UserError';
}

export function chapterArgument(text: string | undefined, root = workbookRoot): Chapter {
  if (!text) throw new UsageError('which chapter? for example: chapter-01');
  const chapter = findChapter(text);
  if (!chapter) throw new UsageError(`no chapter '${text}'; chapters are ${CHAPTERS.map((c) => c.number).join(', ')}`);
  if (!hasChecks(root, chapter)) throw new UserError(`chapter ${chapter.number} (${chapter.title}) has no checks yet`);
  return chapter;
}

export const REPORT_BUG =
  'This is a bug in the workbook, not in your code. Please report it with this line and the command you ran (set WORKBOOK_DEBUG=1 to see the full trace).';

/**
 * Runs a command's `main` and sets the exit code. Usage mistakes print the usage; a
 * UserError prints its message; anything else is an internal error, told in one line.
 */
export async function runMain(main: () => Promise<number>, usage = ''): Promise<void> {
  const internal = (error: unknown) => {
    const what = error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
    console.error(`${color.red('internal error:')} ${what}\n${color.dim(REPORT_BUG)}`);
    if (process.env.WORKBOOK_DEBUG && error instanceof Error) console.error(error.stack);
    process.exitCode = 70;
  };
  process.on('unhandledRejection', internal);
  try {
    process.exitCode = await main();
  } catch (error) {
    if (error instanceof UsageError) {
      if (error.message) console.error(`${color.red('error:')} ${error.message}\n`);
      if (usage) console.error(usage);
      process.exitCode = 2;
    } else if (error instanceof UserError) {
      console.error(`${color.red('error:')} ${error.message}`);
      process.exitCode = 1;
    } else {
      internal(error);
    }
  }
}

/** `--flag value` from an argument list (undefined when absent). */
export function optionValue(argv: string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  if (at < 0) return undefined;
  const value = argv[at + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
  return value;
}

/** The arguments that are not options or option values. */
export function positionals(argv: string[], flagsWithValues: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (flagsWithValues.includes(arg)) i++;
    else if (!arg.startsWith('--')) out.push(arg);
  }
  return out;
}

export { color };
