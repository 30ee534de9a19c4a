/**
 * npm run check <chapter> [-- options]
 *
 *   npm run check chapter-01                  your code in chapters/, both architectures
 *   npm run check all -- --solutions          the reference solutions
 *   npm run check 7 -- --use-ref 1-6          lean on the reference for chapters 1–6
 *   npm run check 3 -- --arch arm64           one architecture only
 *   npm run check all -- --json results.json  machine-readable results for graders
 */
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isArch, type Arch } from '#native/arch.ts';
import { CHAPTERS, chapterDir, findChapter, parseChapterRanges, type Chapter } from './manifest.ts';
import { closingLine, color, formatGroup, jsonResults, totals } from './harness/report.ts';
import { ALL_ARCHES, hasChecks, runSession } from './harness/session.ts';
import type { CheckResult } from './harness/protocol.ts';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

const USAGE = `usage: npm run check <chapter|all> [-- options]

  <chapter>             chapter-01, chapter-1, 01, 1, executable-memory, or all
  --solutions           check the reference solutions instead of chapters/
  --use-ref <chapters>  use the reference for chapters you skipped, e.g. --use-ref 1-6 or 1,3
  --arch <x64|arm64|all>  which architectures (default all)
  --require-all-arches  a skipped architecture counts as a failure
  --workspace <dir>     check the chapters/ of another copy of the workbook
  --json <file>         also write the results as JSON
  --filter <text>       only checks whose name contains the text
  --first-failure       show only the first failure in full
`;

export interface CliOptions {
  chapters: Chapter[];
  arches: Arch[];
  solutions: boolean;
  useRef: Chapter[];
  requireAllArches: boolean;
  workspace?: string;
  json?: string;
  filter?: string;
  firstFailureOnly: boolean;
}

class UsageError extends Error {}

export function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { chapters: [], arches: ALL_ARCHES, solutions: false, useRef: [], requireAllArches: false, firstFailureOnly: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '--solutions':
        options.solutions = true;
        break;
      case '--use-ref':
        options.useRef = parseChapterRanges(value(i++, arg));
        break;
      case '--arch': {
        const a = value(i++, arg);
        if (a === 'all') options.arches = ALL_ARCHES;
        else if (isArch(a)) options.arches = [a];
        else throw new UsageError(`--arch takes x64, arm64 or all, not '${a}'`);
        break;
      }
      case '--require-all-arches':
        options.requireAllArches = true;
        break;
      case '--workspace':
        options.workspace = value(i++, arg);
        break;
      case '--json':
        options.json = value(i++, arg);
        break;
      case '--filter':
        options.filter = value(i++, arg);
        break;
      case '--first-failure':
        options.firstFailureOnly = true;
        break;
      case '--help':
      case '-h':
        throw new UsageError('');
      default: {
        if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
        if (arg === 'all') {
          options.chapters.push(...CHAPTERS.filter((c) => hasChecks(root, c)));
          break;
        }
        const chapter = findChapter(arg);
        if (!chapter) throw new UsageError(`no chapter '${arg}'; chapters are ${CHAPTERS.map((c) => c.number).join(', ')}`);
        if (!hasChecks(root, chapter)) throw new UsageError(`chapter ${chapter.number} (${chapter.title}) has no checks yet`);
        options.chapters.push(chapter);
      }
    }
  }
  if (options.chapters.length === 0) throw new UsageError('which chapter? for example: npm run check chapter-01');
  options.chapters = [...new Set(options.chapters)];
  return options;
}

async function main(): Promise<number> {
  let options: CliOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) console.error(`${color.red('error:')} ${error.message}\n`);
    console.error(USAGE);
    return 2;
  }
  const against = options.solutions ? 'the reference solutions' : options.workspace ? `${options.workspace}/chapters` : 'your code in chapters/';
  const refs = options.useRef.length ? ` (reference for chapter ${options.useRef.map((c) => c.number).join(', ')})` : '';
  console.log(color.dim(`checking ${options.chapters.map(chapterDir).join(', ')} against ${against}${refs}\n`));

  const progress = process.stderr.isTTY;
  let finished = 0;
  const results: CheckResult[] = await runSession({
    root,
    chapters: options.chapters,
    arches: options.arches,
    solutions: options.solutions,
    useRef: options.useRef,
    ...(options.workspace ? { workspace: options.workspace } : {}),
    onResult: () => {
      finished++;
      if (progress) process.stderr.write(`\r${color.dim(`${finished} checks run…`)}`);
    },
  });
  if (progress) process.stderr.write('\r\x1b[K');

  const shown = options.filter ? results.filter((r) => r.check.includes(options.filter!)) : results;
  const state = { shownInFull: 0 };
  for (const chapter of options.chapters) {
    for (const arch of options.arches) {
      const group = shown.filter((r) => r.chapter === chapter.number && r.arch === arch);
      if (group.length) console.log(formatGroup(group, { firstFailureOnly: options.firstFailureOnly }, state) + '\n');
    }
  }
  if (options.json) writeFileSync(options.json, jsonResults(root, shown) + '\n');

  const sum = totals(shown);
  if (sum.todo > 0) console.log(color.yellow(`${sum.todo} of the failures are todo: code not written yet.`));
  if (sum.skipped > 0) console.log(color.dim('skipped: an architecture could not run here (see the message above).'));
  console.log(closingLine(sum));
  const failed = sum.failed + sum.todo > 0 || (options.requireAllArches && sum.skipped > 0);
  return failed ? 1 : 0;
}

process.exitCode = await main();
