/**
 * npm run check <chapter> [-- options]
 *
 *   npm run check chapter-01                  your code in chapters/, both architectures
 *   npm run check all -- --solutions          the reference solutions
 *   npm run check 7 -- --use-ref 1-6          lean on the reference for chapters 1–6
 *   npm run check 3 -- --arch arm64           one architecture only
 *   npm run check all -- --json results.json  machine-readable results for graders
 *   npm run check 1 -- --watch                run again whenever chapters/ changes
 *
 * A run of your own code (not --solutions, not --workspace) is recorded in .workbook/,
 * where `npm run progress`, `npm run hint` and `npm run solution` read it.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isArch, type Arch } from '#native/arch.ts';
import { CHAPTERS, chapterDir, findChapter, parseChapterRanges, type Chapter } from './manifest.ts';
import { closingLine, color, firstFailure, formatGroup, jsonResults, totals, type ReportState } from './harness/report.ts';
import { ALL_ARCHES, hasChecks, runSession } from './harness/session.ts';
import type { CheckResult } from './harness/protocol.ts';
import { runMain, UsageError } from './tools/main.ts';
import { attachHints, recordResults } from './tools/state.ts';
import { watchChapters } from './tools/watch.ts';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

const USAGE = `usage: npm run check <chapter|all> [-- options]

  <chapter>             chapter-01, chapter-1, 01, 1, executable-memory, a range (1-3), or all
  --solutions           check the reference solutions instead of chapters/
  --use-ref <chapters>  use the reference for chapters you skipped, e.g. --use-ref 1-6 or 1,3
  --arch <x64|arm64|all>  which architectures (default all)
  --require-all-arches  a skipped architecture counts as a failure
  --workspace <dir>     check the chapters/ of another copy of the workbook
  --json <file>         also write the results as JSON
  --filter <text>       only report checks whose name contains the text
  --check <name>        run only the check with exactly this name (repeat for more);
                        no other check runs
  --first-failure       show only the first failure in full, the others as one line each
  --failfast            stop at the first failure (or todo): later checks are not reported
                        and later chapters do not run
  --watch               run again whenever a file under chapters/ changes (Ctrl-C to stop)

Also: npm run progress, npm run hint <chapter>, npm run solution <chapter>,
      npm run reset <chapter>, npm run doctor
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
  /** Exact names of the only checks to run. */
  only: string[];
  firstFailureOnly: boolean;
  failfast: boolean;
  watch: boolean;
}

export function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { chapters: [], arches: ALL_ARCHES, solutions: false, useRef: [], requireAllArches: false, only: [], firstFailureOnly: false, failfast: false, watch: false };
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
        try {
          options.useRef = parseChapterRanges(value(i++, arg));
        } catch (error) {
          if (error instanceof UsageError) throw error;
          throw new UsageError(error instanceof Error ? error.message : String(error));
        }
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
      case '--check':
        options.only.push(value(i++, arg));
        break;
      case '--first-failure':
        options.firstFailureOnly = true;
        break;
      case '--failfast':
        options.failfast = true;
        break;
      case '--watch':
        options.watch = true;
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
        if (/^\d+\s*[-,]/.test(arg)) {
          let range: Chapter[];
          try {
            range = parseChapterRanges(arg);
          } catch (error) {
            throw new UsageError(error instanceof Error ? error.message : String(error));
          }
          options.chapters.push(...range.filter((c) => hasChecks(root, c)));
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
  if (!options.solutions) {
    const drafts = options.chapters.filter((c) => c.draft);
    if (drafts.length === options.chapters.length) {
      const names = drafts.map((c) => `${c.number} (${c.title})`).join(', ');
      throw new UsageError(`chapter ${names} is in preparation: its scaffold and book page are not finished yet (--solutions runs its checks against the reference)`);
    }
    options.chapters = options.chapters.filter((c) => !c.draft);
  }
  return options;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const against = options.solutions ? 'the reference solutions' : options.workspace ? `${options.workspace}/chapters` : 'your code in chapters/';
  const refs = options.useRef.length ? ` (reference for chapter ${options.useRef.map((c) => c.number).join(', ')})` : '';
  const ownCode = !options.solutions && !options.workspace;
  const selfReferenced = options.chapters.filter((c) => options.useRef.includes(c));
  if (selfReferenced.length && !options.solutions) {
    console.log(color.yellow(`note: --use-ref covers chapter ${selfReferenced.map((c) => c.number).join(', ')}, which is being checked, so these results are the reference's, not yours.`));
  }

  if (options.watch) {
    if (options.solutions) throw new UsageError('--watch watches your chapters/; it does not go with --solutions');
    const watcher = watchChapters({
      root,
      chapters: options.chapters,
      arches: options.arches,
      useRef: options.useRef,
      ...(options.workspace ? { workspace: resolve(options.workspace) } : {}),
      clear: process.stdout.isTTY,
      failfast: options.failfast,
      record: ownCode,
    });
    await new Promise<void>((done) => {
      const stop = () => void watcher.stop().then(done);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  }

  console.log(color.dim(`checking ${options.chapters.map(chapterDir).join(', ')} against ${against}${refs}\n`));

  const progress = process.stderr.isTTY;
  let finished = 0;
  const results: CheckResult[] = await runSession({
    root,
    chapters: options.chapters,
    arches: options.arches,
    solutions: options.solutions,
    useRef: options.useRef,
    failfast: options.failfast,
    ...(options.only.length ? { only: options.only } : {}),
    ...(options.workspace ? { workspace: options.workspace } : {}),
    onResult: () => {
      finished++;
      if (progress) process.stderr.write(`\r${color.dim(`${finished} checks run…`)}`);
    },
  });
  if (progress) process.stderr.write('\r\x1b[K');
  attachHints(results, options.workspace ? resolve(options.workspace) : root);
  // A run of a few named checks says nothing about the rest of the chapter: it is not recorded.
  if (ownCode && options.only.length === 0) {
    try {
      recordResults(root, results, options.useRef);
    } catch (error) {
      console.error(color.dim(`(could not record the results in .workbook/: ${error instanceof Error ? error.message : String(error)})`));
    }
  }

  const shown = options.filter ? results.filter((r) => r.check.includes(options.filter!)) : results;
  const state: ReportState = { shownInFull: 0, full: firstFailure(shown) };
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
  if (options.failfast && sum.failed + sum.todo > 0) console.log(color.dim('stopped at the first failure (--failfast): the checks after it are not reported.'));
  if (ownCode && sum.failed + sum.todo > 0) {
    const first = firstFailure(shown);
    if (first && /could not be loaded/.test(first.message)) console.log(color.dim('your code does not load: fix the error shown above, then run the checks again.'));
    else if (first) console.log(color.dim(`stuck? npm run hint chapter-${first.chapter} shows a hint for '${first.check}', one rung at a time.`));
  }
  console.log(closingLine(sum));
  const failed = sum.failed + sum.todo > 0 || (options.requireAllArches && sum.skipped > 0);
  return failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMain(main, USAGE);
