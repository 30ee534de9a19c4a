/**
 * npm run check chapter-NN -- --watch
 *
 * Runs the chapter's checks, then again whenever a file under chapters/ changes (changes
 * that arrive together are gathered: debounced). Each run clears the screen and shows the
 * first failure in full and every other one as a line. A file that does not even parse is
 * a failed run like any other (with its file:line:column); the watcher goes on watching.
 */
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '#native/arch.ts';
import type { Chapter } from '../manifest.ts';
import type { CheckResult } from '../harness/protocol.ts';
import { closingLine, color, firstFailure, formatGroup, totals, type ReportState } from '../harness/report.ts';
import { runSession } from '../harness/session.ts';
import { attachHints, recordResults } from './state.ts';

export interface WatchOptions {
  root: string;
  chapters: Chapter[];
  arches: Arch[];
  useRef?: Chapter[];
  /** Another copy's chapters/ (its folder is the one watched). */
  workspace?: string;
  /** Quiet time after the last change before a run starts; default 250 ms. */
  debounceMs?: number;
  /** Clear the screen before each report (on a terminal). */
  clear?: boolean;
  failfast?: boolean;
  /** Record results in .workbook/ (the learner's own runs). */
  record?: boolean;
  write?: (text: string) => void;
  /** After each run, with its number (1 for the first). */
  onRun?: (results: CheckResult[], run: number) => void;
}

export interface Watcher {
  /** Stops watching; resolves when a run in progress has finished. */
  stop(): Promise<void>;
}

/** Editors' scratch files, whose churn should not start a run. */
function ignored(file: string | null): boolean {
  if (!file) return false;
  const name = file.split(/[\\/]/).pop() ?? '';
  return /^\.#|~$|\.sw[a-p]$|^4913$|\.tmp$/.test(name);
}

export function watchChapters(options: WatchOptions): Watcher {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const folder = join(options.workspace ?? options.root, 'chapters');
  const debounceMs = options.debounceMs ?? 250;
  let runs = 0;
  let running: Promise<void> | null = null;
  let dirty = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const changed = new Set<string>();

  const runOnce = async () => {
    runs++;
    const because = [...changed];
    changed.clear();
    let results: CheckResult[];
    try {
      results = await runSession({
        root: options.root,
        chapters: options.chapters,
        arches: options.arches,
        useRef: options.useRef ?? [],
        ...(options.workspace ? { workspace: options.workspace } : {}),
        ...(options.failfast ? { failfast: true } : {}),
      });
      attachHints(results, options.workspace ?? options.root);
      if (options.record) recordResults(options.root, results, options.useRef ?? []);
    } catch (error) {
      write(`${color.red('the checks could not run:')} ${error instanceof Error ? error.message : String(error)}\n${color.dim('watching for changes…')}\n`);
      return;
    }
    if (stopped) return;
    const out: string[] = [];
    if (options.clear) out.push('\x1b[2J\x1b[3J\x1b[H');
    const when = new Date().toLocaleTimeString();
    out.push(color.dim(`run ${runs} at ${when}${because.length ? ` · changed: ${because.slice(0, 3).join(', ')}${because.length > 3 ? ' …' : ''}` : ''}\n\n`));
    const state: ReportState = { shownInFull: 0, full: firstFailure(results) };
    for (const chapter of options.chapters) {
      for (const arch of options.arches) {
        const group = results.filter((r) => r.chapter === chapter.number && r.arch === arch);
        if (group.length) out.push(formatGroup(group, { firstFailureOnly: true }, state) + '\n\n');
      }
    }
    const sum = totals(results);
    out.push(closingLine(sum) + '\n');
    if (sum.failed + sum.todo === 0 && sum.passed > 0) out.push(color.green('all checks pass. npm run progress says what is next.\n'));
    out.push(color.dim(`watching ${options.workspace ? folder : 'chapters/'} for changes… (Ctrl-C to stop)\n`));
    write(out.join(''));
    options.onRun?.(results, runs);
  };

  const start = () => {
    if (stopped) return;
    if (running) {
      dirty = true;
      return;
    }
    running = runOnce().finally(() => {
      running = null;
      if (dirty && !stopped) {
        dirty = false;
        schedule();
      }
    });
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(start, debounceMs);
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(folder, { recursive: true }, (_event, file) => {
      if (ignored(file)) return;
      if (file) changed.add(String(file));
      if (running) dirty = true;
      else schedule();
    });
    watcher.on('error', (error) => write(`${color.red('watching stopped:')} ${error.message}\n`));
  } catch (error) {
    write(`${color.red('cannot watch')} ${folder}: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  start();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      watcher?.close();
      await running;
    },
  };
}
