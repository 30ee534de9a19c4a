/**
 * A chapter's page teaches its TODOs; it never shows their reference bodies. This module
 * finds those bodies and any place where a page repeats them.
 *
 * A TODO's reference body is what solutions/NN-slug/x.ts has where chapters/NN-slug/x.ts has
 * a TODO: the code on the solution's side of each difference between the two files (a diff
 * of their lines), which is each TODO body's replacement and every helper the answer adds;
 * comment lines are left out, since the two files' comments may differ and comments alone
 * are no answer. A page leaks an answer when three
 * consecutive lines of one body appear as three consecutive lines of the page, compared
 * normalized: trimmed, whitespace collapsed, blank lines and lines of lone brackets skipped.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The chapters whose pages must not show a TODO's reference body. The build fails on a leak
 * in one of these, and the book tests check their built pages. Add a chapter once its page
 * teaches without the answer.
 */
export const TEACHING_CHAPTERS: readonly string[] = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];

/** How many consecutive normalized lines of a body make a leak. */
export const LEAK_WINDOW = 3;

/** One TODO's reference body: normalized lines of the solution, with their line numbers. */
export interface ReferenceBody {
  readonly file: string;
  readonly lines: readonly { readonly text: string; readonly line: number }[];
}

/** A run of a reference body found on a page: overlapping windows merged. */
export interface Leak {
  readonly file: string;
  /** 1-based lines in the solution file of the run's first and last line. */
  readonly line: number;
  readonly lastLine: number;
  /** The normalized lines found on the page. */
  readonly text: readonly string[];
}

/** A line as it is compared: trimmed, inner whitespace collapsed; '' for lines that never count. */
export function normalizeLine(line: string): string {
  const text = line.trim().replace(/\s+/g, ' ');
  if (/^[{}()[\];,]*$/.test(text)) return '';
  if (/^\/\/\s*@book:/.test(text)) return '';
  return text;
}

/**
 * The reference bodies of one file pair, in the order they appear in the solution.
 * `file` names the solution file in what this returns.
 */
export function referenceBodies(scaffold: string, solution: string, file: string): ReferenceBody[] {
  const before = significantLines(scaffold);
  const after = significantLines(solution);
  const bodies: ReferenceBody[] = [];
  for (const hunk of diffHunks(before.map((entry) => entry.text), after.map((entry) => entry.text))) {
    const lines = after.slice(hunk.afterStart, hunk.afterEnd).filter((entry) => !isCommentOnly(entry.text));
    if (lines.length >= LEAK_WINDOW) bodies.push({ file, lines });
  }
  return bodies;
}

/** The lines of a source that count, normalized, with their 1-based line numbers. */
function significantLines(source: string): { text: string; line: number }[] {
  return source
    .split(/\r?\n/)
    .map((text, index) => ({ text: normalizeLine(text), line: index + 1 }))
    .filter((entry) => entry.text !== '');
}

/** Comments alone teach, they do not answer: a body's windows skip them. */
function isCommentOnly(text: string): boolean {
  return /^(\/\/|\/\*|\*)/.test(text);
}

/** Every window of LEAK_WINDOW consecutive body lines that appears as consecutive lines of `pageText`. */
export function findLeaks(pageText: string, bodies: readonly ReferenceBody[]): Leak[] {
  const page = pageText
    .split(/\r?\n/)
    .map(normalizeLine)
    .filter((line) => line !== '' && !isCommentOnly(line));
  const windows = new Set<string>();
  for (let i = 0; i + LEAK_WINDOW <= page.length; i++) windows.add(page.slice(i, i + LEAK_WINDOW).join('\n'));
  const leaks: Leak[] = [];
  for (const body of bodies) {
    let run: { from: number; to: number } | undefined;
    const close = () => {
      if (!run) return;
      const lines = body.lines.slice(run.from, run.to);
      leaks.push({ file: body.file, line: lines[0]!.line, lastLine: lines[lines.length - 1]!.line, text: lines.map((entry) => entry.text) });
      run = undefined;
    };
    for (let i = 0; i + LEAK_WINDOW <= body.lines.length; i++) {
      const window = body.lines.slice(i, i + LEAK_WINDOW);
      if (!windows.has(window.map((entry) => entry.text).join('\n'))) continue;
      if (run && i <= run.to) run.to = i + LEAK_WINDOW;
      else {
        close();
        run = { from: i, to: i + LEAK_WINDOW };
      }
    }
    close();
  }
  return leaks;
}

/** The reference bodies of every file of chapter `slug` (e.g. '02-add-four') in the repository at `rootDir`. */
export function chapterReferenceBodies(rootDir: string, slug: string): ReferenceBody[] {
  const solutions = join(rootDir, 'solutions', slug);
  if (!existsSync(solutions)) return [];
  const bodies: ReferenceBody[] = [];
  for (const name of readdirSync(solutions).sort()) {
    const scaffoldPath = join(rootDir, 'chapters', slug, name);
    if (!name.endsWith('.ts') || !existsSync(scaffoldPath)) continue;
    const solution = readFileSync(join(solutions, name), 'utf8');
    bodies.push(...referenceBodies(readFileSync(scaffoldPath, 'utf8'), solution, `solutions/${slug}/${name}`));
  }
  return bodies;
}

/** A leak as a line of a report: where the body is, and the lines the page repeats. */
export function describeLeak(page: string, leak: Leak): string {
  const lines = leak.text.length > LEAK_WINDOW ? [...leak.text.slice(0, LEAK_WINDOW), '…'] : leak.text;
  return `${page} shows ${leak.text.length} lines of a TODO's reference body, ${leak.file}:${leak.line}-${leak.lastLine}: ${lines.map((line) => `«${line}»`).join(' ')}`;
}

interface Hunk {
  readonly beforeStart: number;
  readonly beforeEnd: number;
  readonly afterStart: number;
  readonly afterEnd: number;
}

/** The differing runs of two line lists, from a longest common subsequence. */
function diffHunks(a: readonly string[], b: readonly string[]): Hunk[] {
  const rows = a.length + 1;
  const cols = b.length + 1;
  // common[i][j]: length of the LCS of a[i..] and b[j..].
  const common = new Uint32Array(rows * cols);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      common[i * cols + j] = a[i] === b[j] ? common[(i + 1) * cols + j + 1]! + 1 : Math.max(common[(i + 1) * cols + j]!, common[i * cols + j + 1]!);
    }
  }
  const hunks: Hunk[] = [];
  let i = 0;
  let j = 0;
  let open: { beforeStart: number; afterStart: number } | undefined;
  const close = () => {
    if (open && (i > open.beforeStart || j > open.afterStart)) hunks.push({ ...open, beforeEnd: i, afterEnd: j });
    open = undefined;
  };
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      close();
      i++;
      j++;
    } else {
      open ??= { beforeStart: i, afterStart: j };
      if (j < b.length && (i === a.length || common[i * cols + j + 1]! >= common[(i + 1) * cols + j]!)) j++;
      else i++;
    }
  }
  close();
  return hunks;
}
