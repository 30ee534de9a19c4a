/** The human-readable report and the JSON results for graders. */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ARCH_NAMES } from '#native/arch.ts';
import { CHAPTERS } from '../manifest.ts';
import type { CheckResult } from './protocol.ts';
import { causeOf, failureHint } from './diagnose.ts';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
export const color = { green: paint(32), red: paint(31), yellow: paint(33), dim: paint(2), bold: paint(1), cyan: paint(36) };

const MARK: Record<CheckResult['status'], string> = {
  pass: color.green('✓ pass'),
  fail: color.red('✗ FAIL'),
  todo: color.yellow('○ todo'),
  skip: color.dim('- skip'),
};

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((l) => (l ? pad + l : l))
    .join('\n');
}

export interface ReportOptions {
  /**
   * Show every failure in full (default), or only the first in full and every other
   * failure or todo as one line: its name and the first line of its message.
   */
  firstFailureOnly?: boolean;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 110 ? `${line.slice(0, 107)}…` : line;
}

/** What the reports of several groups share: how many failures were shown, and which one in full. */
export interface ReportState {
  shownInFull: number;
  /** With firstFailureOnly: the result to show in full (default: the first failure or todo met). */
  full?: CheckResult | undefined;
  lastMessage?: string;
}

/** The failure most worth showing in full: the first real failure, else the first todo. */
export function firstFailure(results: readonly CheckResult[]): CheckResult | undefined {
  return results.find((r) => r.status === 'fail') ?? results.find((r) => r.status === 'todo');
}

/** The report of one chapter on one architecture. */
export function formatGroup(results: CheckResult[], options: ReportOptions = {}, state: ReportState = { shownInFull: 0 }): string {
  const first = results[0];
  if (!first) return '';
  const chapter = CHAPTERS.find((c) => c.number === first.chapter);
  const heading = `chapter ${first.chapter} · ${chapter?.title ?? ''} · ${ARCH_NAMES[first.arch]} (${first.mode === 'native' ? 'native' : 'emulated'})`;
  const lines = [color.bold(heading)];
  const cause = commonCause(results);
  if (cause) lines.push(color.yellow(`  ${cause}`));
  for (const r of results) {
    if (r.status === 'pass') {
      lines.push(`  ${MARK[r.status]}  ${r.check}${color.dim(`  ${r.ms} ms`)}`);
      continue;
    }
    if (options.firstFailureOnly && r.status !== 'skip') {
      const full = state.full ? r === state.full : state.shownInFull === 0;
      state.shownInFull++;
      if (!full) {
        const same = r.message === state.lastMessage;
        lines.push(`  ${MARK[r.status]}  ${r.check}${color.dim(` — ${same ? 'the same as above' : firstLine(r.message)}`)}`);
        state.lastMessage = r.message;
        continue;
      }
      state.lastMessage = r.message;
      lines.push(`  ${MARK[r.status]}  ${r.check}`);
      lines.push(indent(r.message, 10));
      if (r.details) lines.push(indent(r.details, 10));
      const hint = shownHint(r);
      if (hint) lines.push(indent(color.cyan(`hint: ${hint}`), 10));
      if (r.file) lines.push(indent(color.dim(`check: ${r.file}`), 10));
      continue;
    }
    // The same failure again (a file that will not load fails every check alike): one line.
    const text = `${r.message}\n${r.details ?? ''}`;
    if (r.status === 'fail' && text === state.lastMessage) {
      lines.push(`  ${MARK[r.status]}  ${r.check}${color.dim(' — the same as above')}`);
      continue;
    }
    lines.push(`  ${MARK[r.status]}  ${r.check}`);
    lines.push(indent(r.message, 10));
    if (r.status !== 'fail') continue;
    state.lastMessage = text;
    state.shownInFull++;
    if (r.details) lines.push(indent(r.details, 10));
    const hint = shownHint(r);
    if (hint) lines.push(indent(color.cyan(`hint: ${hint}`), 10));
    if (r.file) lines.push(indent(color.dim(`check: ${r.file}`), 10));
  }
  return lines.join('\n');
}

/** The hint a failure's report shows: one that fits the failure itself, else the check's first rung. */
export function shownHint(r: CheckResult): string | undefined {
  return failureHint(r) ?? r.hint;
}

/**
 * One line for the top of a group when one cause explains several of its failures, so the
 * learner fixes that first instead of reading each failure's own hint.
 */
export function commonCause(results: readonly CheckResult[]): string | undefined {
  const failures = results.filter((r) => r.status === 'fail');
  const counts = new Map<string, { text: string; count: number }>();
  for (const r of failures) {
    const cause = causeOf(r);
    if (!cause) continue;
    const entry = counts.get(cause.key) ?? { text: cause.text, count: 0 };
    entry.count++;
    counts.set(cause.key, entry);
  }
  const [top] = [...counts.values()].sort((a, b) => b.count - a.count);
  if (!top || top.count < 2) return undefined;
  const of = top.count === failures.length ? `All ${top.count} failures` : `${top.count} of the ${failures.length} failures`;
  return `${of} below have one cause: ${top.text}. Fix that first; the other messages may be its echoes.`;
}

export interface Totals {
  passed: number;
  failed: number;
  todo: number;
  skipped: number;
}

export function totals(results: CheckResult[]): Totals {
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  return { passed: count('pass'), failed: count('fail'), todo: count('todo'), skipped: count('skip') };
}

/** The closing line: `N passed, N failed` (a todo counts as not passed), and `, N skipped` where any. */
export function closingLine(t: Totals): string {
  const skipped = t.skipped ? `, ${t.skipped} skipped` : '';
  return `${t.passed} passed, ${t.failed + t.todo} failed${skipped}`;
}

/** A hash of every file the checks are made of, so a grader can tell which suite graded. */
export function checksHash(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(relative(root, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(join(root, 'checks'));
  return hash.digest('hex').slice(0, 16);
}

/** One result as the JSON results carry it. */
export function resultRecord(r: CheckResult): Record<string, unknown> {
  return {
    chapter: r.chapter,
    check: r.check,
    arch: r.arch,
    mode: r.mode,
    status: r.status,
    message: r.message,
    ms: r.ms,
    points: r.points,
    hintsUsed: r.hintsUsed ?? 0,
    ...(r.fromChapter ? { fromChapter: r.fromChapter } : {}),
  };
}

export function suiteVersion(root: string): { version: string; checksHash: string } {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  return { version, checksHash: checksHash(root) };
}

export function jsonResults(root: string, results: CheckResult[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ suite: suiteVersion(root), ...extra, results: results.map(resultRecord) }, null, 2);
}
