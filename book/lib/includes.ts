/**
 * Code listings in the book come from the real sources. A source file marks a region
 *
 *   // @book:start allocate
 *   …
 *   // @book:end allocate
 *
 * and a book page pulls it in with a line of its own: `@include solutions/01-…/code-region.ts#allocate`
 * (or `@include PATH` for the whole file). Marker lines never appear in a listing.
 */
import { posix } from 'node:path';

/** Everything wrong with a page or a source file, each problem as `file:line: what`. */
export class BookError extends Error {
  override readonly name = 'BookError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

const MARKER_LINE = /^\s*\/\/\s*@book:(start|end)\b(.*)$/;
const MARKER_NAME = /^[\w.-]+$/;

/** Where a marker pair sits in its file: 1-based line numbers of the marker lines. */
export interface MarkerSpan {
  readonly name: string;
  readonly startLine: number;
  readonly endLine: number;
}

/** Finds every marker pair of a source file, and every malformed, unterminated or duplicated marker. */
export function scanMarkers(source: string, file: string): { spans: Map<string, MarkerSpan>; problems: string[] } {
  const spans = new Map<string, MarkerSpan>();
  const open = new Map<string, number>();
  const problems: string[] = [];
  splitLines(source).forEach((line, index) => {
    const match = MARKER_LINE.exec(line);
    if (!match) return;
    const [, kind, rest] = match as unknown as [string, 'start' | 'end', string];
    const name = rest.trim();
    const at = `${file}:${index + 1}`;
    if (!MARKER_NAME.test(name)) {
      problems.push(`${at}: malformed marker, expected '// @book:${kind} NAME' (NAME: letters, digits, '-', '_', '.')`);
    } else if (kind === 'start') {
      const previous = spans.get(name);
      if (open.has(name)) {
        problems.push(`${at}: marker '${name}' starts again before its end (first start at line ${open.get(name)})`);
      } else if (previous) {
        problems.push(`${at}: duplicated marker '${name}' (already used at lines ${previous.startLine}–${previous.endLine})`);
      } else {
        open.set(name, index + 1);
      }
    } else {
      const startLine = open.get(name);
      if (startLine === undefined) {
        problems.push(`${at}: '// @book:end ${name}' has no matching '// @book:start ${name}' above it`);
      } else {
        open.delete(name);
        spans.set(name, { name, startLine, endLine: index + 1 });
      }
    }
  });
  for (const [name, startLine] of open) {
    problems.push(`${file}:${startLine}: marker '${name}' is never ended (add '// @book:end ${name}')`);
  }
  return { spans, problems };
}

/** The names of the markers, in the order they start in the file. */
export function markerNames(spans: Map<string, MarkerSpan>): string[] {
  return [...spans.values()].sort((a, b) => a.startLine - b.startLine).map((span) => span.name);
}

/** A listing cut from a source file: dedented, without marker lines. */
export interface Region {
  readonly code: string;
  /** 1-based lines of the source the listing spans. */
  readonly firstLine: number;
  readonly lastLine: number;
}

/** The region between `// @book:start NAME` and `// @book:end NAME` of `source`. */
export function extractRegion(source: string, name: string, file: string): Region {
  const { spans, problems } = scanMarkers(source, file);
  if (problems.length > 0) throw new BookError(problems);
  const span = spans.get(name);
  if (!span) {
    const known = markerNames(spans);
    const hint = known.length > 0 ? `its markers are: ${known.join(', ')}` : 'it has no markers';
    throw new BookError([`no marker '${name}' in ${file} (${hint})`]);
  }
  const lines = splitLines(source).slice(span.startLine, span.endLine - 1);
  return { code: listing(lines), firstLine: span.startLine + 1, lastLine: span.endLine - 1 };
}

/** A whole source file as a listing, without marker lines. */
export function wholeFile(source: string, file: string): Region {
  const { problems } = scanMarkers(source, file);
  if (problems.length > 0) throw new BookError(problems);
  const lines = splitLines(source);
  return { code: listing(lines), firstLine: 1, lastLine: lines.length };
}

function listing(lines: string[]): string {
  const shown = lines.filter((line) => !MARKER_LINE.test(line));
  while (shown.length > 0 && shown[0]!.trim() === '') shown.shift();
  while (shown.length > 0 && shown[shown.length - 1]!.trim() === '') shown.pop();
  return dedent(shown).join('\n');
}

/** Removes the indentation every non-blank line shares. */
export function dedent(lines: readonly string[]): string[] {
  const indents = lines.filter((line) => line.trim() !== '').map((line) => /^\s*/.exec(line)![0].length);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((line) => (line.trim() === '' ? '' : line.slice(common)));
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** One `@include` of a page. `name` is undefined for a whole file. */
export interface IncludeRef {
  readonly path: string;
  readonly name: string | undefined;
  readonly line: number;
}

/** Reads a file relative to the repository root; undefined when there is no such file. */
export type ReadFile = (path: string) => string | undefined;

const INCLUDE_LINE = /^(\s*)@include\b(.*)$/;
const FENCE = /^\s{0,3}(`{3,}|~{3,})/;

/**
 * Replaces each `@include PATH[#NAME]` line of `markdown` by a fenced code block whose info
 * string carries the language and the source (`ts source=PATH#NAME lines=75-88`), which the
 * renderer turns into a caption. Lines inside fenced code blocks are left alone.
 * Throws a BookError listing every broken include as `pageName:line: …`.
 */
export function expandIncludes(markdown: string, readFile: ReadFile, pageName: string): { markdown: string; includes: IncludeRef[] } {
  const out: string[] = [];
  const includes: IncludeRef[] = [];
  const problems: string[] = [];
  let fence: string | undefined;

  splitLines(markdown).forEach((line, index) => {
    const fenceMatch = FENCE.exec(line);
    if (fence !== undefined) {
      if (fenceMatch && fenceMatch[1]![0] === fence[0] && fenceMatch[1]!.length >= fence.length && line.trim() === fenceMatch[1]) {
        fence = undefined;
      }
      out.push(line);
      return;
    }
    if (fenceMatch) fence = fenceMatch[1];
    const match = INCLUDE_LINE.exec(line);
    if (!match) {
      out.push(line);
      return;
    }
    const at = `${pageName}:${index + 1}`;
    const [, indent, argument] = match as unknown as [string, string, string];
    const target = argument.trim();
    if (!/^\S+$/.test(target)) {
      problems.push(`${at}: malformed include, expected '@include PATH#NAME' or '@include PATH' on a line of its own`);
      return;
    }
    const hash = target.indexOf('#');
    const path = hash < 0 ? target : target.slice(0, hash);
    const name = hash < 0 ? undefined : target.slice(hash + 1);
    const normal = posix.normalize(path);
    if (posix.isAbsolute(path) || normal.startsWith('..') || name === '') {
      problems.push(`${at}: @include ${target}: expected a path relative to the repository root and, after '#', a marker name`);
      return;
    }
    const source = readFile(normal);
    if (source === undefined) {
      problems.push(`${at}: @include ${target}: no such file ${normal}`);
      return;
    }
    try {
      const region = name === undefined ? wholeFile(source, normal) : extractRegion(source, name, normal);
      includes.push({ path: normal, name, line: index + 1 });
      const block = codeFence(region, normal, name);
      const lines = isOwnExercise(pageName, normal, region.code, readFile) ? collapsed(block, normal, name) : block;
      out.push(...lines.map((fenceLine) => (fenceLine === '' ? '' : indent + fenceLine)));
    } catch (error) {
      if (!(error instanceof BookError)) throw error;
      problems.push(...error.problems.map((problem) => `${at}: @include ${target}: ${problem}`));
    }
  });

  if (problems.length > 0) throw new BookError(problems);
  return { markdown: out.join('\n'), includes };
}

function codeFence(region: Region, path: string, name: string | undefined): string[] {
  const longestTicks = Math.max(0, ...(region.code.match(/`+/g) ?? []).map((ticks) => ticks.length));
  const ticks = '`'.repeat(Math.max(3, longestTicks + 1));
  const source = encodeURIComponent(name === undefined ? path : `${path}#${name}`);
  const info = `${languageOf(path)} source=${source} lines=${region.firstLine}-${region.lastLine}`;
  return [`${ticks}${info}`, ...region.code.split('\n'), ticks];
}

/**
 * True when a page includes an answer to its own chapter's exercises: code from
 * solutions/NN-slug/ on page NN-slug that the learner's scaffold (chapters/NN-slug/, same
 * file) does not already contain. Code the scaffold gives is no answer and stays open.
 */
function isOwnExercise(pageName: string, path: string, region: string, readFile: ReadFile): boolean {
  const page = /(?:^|\/)(\d\d-[a-z0-9-]+)\.md$/.exec(pageName);
  if (page === null || !path.startsWith(`solutions/${page[1]}/`)) return false;
  const scaffold = readFile(`chapters/${path.slice('solutions/'.length)}`);
  return scaffold === undefined || !squeeze(scaffold).includes(squeeze(region));
}

/** Code with indentation, blank lines and line ends squeezed out, for comparing. */
function squeeze(code: string): string {
  return code
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join('\n');
}

/** Wraps a listing of the chapter's own answer in a closed <details>, to open after trying. */
function collapsed(block: string[], path: string, name: string | undefined): string[] {
  const file = path.slice(path.lastIndexOf('/') + 1);
  const what = name === undefined ? file : `${file} · ${name}`;
  return [
    '<details class="reference">',
    `<summary>The reference: <code>${what}</code> (open it when you have tried)</summary>`,
    '',
    ...block,
    '',
    '</details>',
  ];
}

/** The fence language for a file: its extension, with the usual aliases. */
export function languageOf(path: string): string {
  const extension = posix.extname(path).slice(1).toLowerCase();
  const aliases: Record<string, string> = { mts: 'ts', cts: 'ts', mjs: 'js', cjs: 'js', s: 'asm' };
  return aliases[extension] ?? (extension || 'text');
}
