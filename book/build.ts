/**
 * Builds the HTML book: every book/*.md page, with its `@include` lines replaced by listings
 * from the real sources, into book/out/.
 *
 *   npm run book                      build into book/out/
 *   npm run book -- --check           only validate includes and markers (no output)
 *   npm run book -- --out DIR         build into DIR
 *   npm run book -- --root DIR        the book of another repository (DIR/book, DIR/solutions)
 *
 * A line `@figure NAME` draws one of the figures of book/lib/figures.ts.
 *
 * Fails (exit 1) on a missing file, a missing, unterminated or duplicated marker, an unknown
 * figure, each reported as `book/PAGE.md:LINE: …`, and on a page of a chapter listed in
 * book/lib/answers.ts that shows a TODO's reference body; warns about markers in solutions/
 * that no page includes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BookError, expandIncludes, extractRegion, markerNames, scanMarkers, type IncludeRef } from './lib/includes.ts';
import { chapterTable, pageOf, readingOrder, renderPage, type Book, type Page } from './lib/render.ts';
import { expandFigures } from './lib/figures.ts';
import { TEACHING_CHAPTERS, chapterReferenceBodies, describeLeak, findLeaks } from './lib/answers.ts';

export { BookError, extractRegion, expandIncludes, scanMarkers } from './lib/includes.ts';
export { renderPage } from './lib/render.ts';

export interface BuiltPage extends Page {
  readonly includes: readonly IncludeRef[];
  /** The names of the figures the page draws, in order. */
  readonly figures: readonly string[];
}

export interface BuildResult {
  readonly pages: readonly BuiltPage[];
  readonly warnings: readonly string[];
}

export interface BuildOptions {
  /** Validate only; write nothing. */
  readonly check?: boolean;
}

const STYLESHEET = fileURLToPath(new URL('./style.css', import.meta.url));

/**
 * Builds the book of the repository at `rootDir` (pages in rootDir/book, sources anywhere
 * below rootDir) into `outDir`. Throws a BookError listing every problem of every page.
 */
export function buildBook(rootDir: string, outDir: string, options: BuildOptions = {}): BuildResult {
  const bookDir = join(rootDir, 'book');
  const readFile = (path: string) => {
    const full = join(rootDir, path);
    return existsSync(full) && statSync(full).isFile() ? readFileSync(full, 'utf8') : undefined;
  };

  const problems: string[] = [];
  const expanded = new Map<string, { markdown: string; includes: IncludeRef[]; figures: string[] }>();
  const files = readdirSync(bookDir).filter((file) => file.endsWith('.md')).sort();
  for (const file of files) {
    try {
      // Figures first: each becomes one line of HTML, so include problems keep their line numbers.
      const drawn = expandFigures(readFileSync(join(bookDir, file), 'utf8'), `book/${file}`);
      problems.push(...drawn.problems);
      const included = expandIncludes(drawn.markdown, readFile, `book/${file}`);
      expanded.set(file, { ...included, figures: drawn.figures });
      problems.push(...answerLeaks(rootDir, file, included.markdown));
    } catch (error) {
      if (!(error instanceof BookError)) throw error;
      problems.push(...error.problems);
    }
  }

  const pages: BuiltPage[] = readingOrder(files.map((file) => pageOf(file, readFileSync(join(bookDir, file), 'utf8')))).map(
    (page) => ({ ...page, includes: expanded.get(page.file)?.includes ?? [], figures: expanded.get(page.file)?.figures ?? [] }),
  );
  problems.push(...duplicateChapters(pages));

  const markers = sourceMarkers(rootDir);
  problems.push(...markers.problems);
  if (problems.length > 0) throw new BookError(problems);

  const warnings = unusedMarkers(markers.byFile, pages).map((warning) => explainUnused(rootDir, warning));
  if (options.check) return { pages, warnings };

  const index = pages.find((page) => page.file === 'index.md');
  const book: Book = { title: index?.title ?? 'The JIT workbook', pages };
  mkdirSync(outDir, { recursive: true });
  for (const stale of readdirSync(outDir).filter((file) => file.endsWith('.html'))) rmSync(join(outDir, stale));
  for (const page of pages) {
    let markdown = expanded.get(page.file)!.markdown;
    if (page.file === 'index.md') markdown = markdown.replace(/^@chapters[ \t]*$/m, () => chapterTable(pages));
    writeFileSync(join(outDir, page.href), renderPage(page, markdown, book));
  }
  writeFileSync(join(outDir, 'style.css'), readFileSync(STYLESHEET));
  return { pages, warnings };
}

/** On the page of a chapter that teaches without its answers, every place it shows one. */
function answerLeaks(rootDir: string, file: string, markdown: string): string[] {
  const chapter = /^(\d\d)-[\w-]+\.md$/.exec(file);
  if (!chapter || !TEACHING_CHAPTERS.includes(chapter[1]!)) return [];
  const bodies = chapterReferenceBodies(rootDir, file.replace(/\.md$/, ''));
  return findLeaks(markdown, bodies).map((leak) => describeLeak(`book/${file}`, leak));
}

function duplicateChapters(pages: readonly Page[]): string[] {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const page of pages) {
    if (page.number === undefined) continue;
    const other = seen.get(page.number);
    if (other) problems.push(`book/${page.file}:1: chapter ${page.number} already has a page, book/${other}`);
    seen.set(page.number, page.file);
  }
  return problems;
}

/** Every marker of every source file under solutions/, and every malformed marker there. */
function sourceMarkers(rootDir: string): { byFile: Map<string, string[]>; problems: string[] } {
  const byFile = new Map<string, string[]>();
  const problems: string[] = [];
  const solutions = join(rootDir, 'solutions');
  if (!existsSync(solutions)) return { byFile, problems };
  for (const full of walk(solutions)) {
    const source = readFileSync(full, 'utf8');
    if (!source.includes('@book:')) continue;
    const path = relative(rootDir, full).split(sep).join('/');
    const scan = scanMarkers(source, path);
    problems.push(...scan.problems);
    byFile.set(path, markerNames(scan.spans));
  }
  return { byFile, problems };
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

function unusedMarkers(byFile: Map<string, string[]>, pages: readonly BuiltPage[]): string[] {
  const used = new Set(pages.flatMap((page) => page.includes.map((ref) => `${ref.path}#${ref.name ?? '*'}`)));
  return [...byFile].flatMap(([path, names]) =>
    used.has(`${path}#*`) ? [] : names.filter((name) => !used.has(`${path}#${name}`)).map((name) => `${path}: marker '${name}' is not included by any page`),
  );
}

/** An unused marker around a TODO's answer in a teaching chapter is expected: say so, and that it can go. */
function explainUnused(rootDir: string, warning: string): string {
  const match = /^(solutions\/((\d\d)-[\w-]+)\/[^:]+): marker '([^']+)'/.exec(warning);
  if (!match || !TEACHING_CHAPTERS.includes(match[3]!)) return warning;
  const region = extractRegion(readFileSync(join(rootDir, match[1]!), 'utf8'), match[4]!, match[1]!);
  const answers = findLeaks(region.code, chapterReferenceBodies(rootDir, match[2]!));
  return answers.length > 0 ? `${warning} (it holds a TODO's answer, which the page teaches without showing: the marker can go)` : warning;
}

function main(argv: readonly string[]): number {
  const option = (flag: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 && argv[at + 1] !== undefined ? resolve(argv[at + 1]!) : undefined;
  };
  const rootDir = option('--root') ?? fileURLToPath(new URL('..', import.meta.url));
  const outDir = option('--out') ?? join(rootDir, 'book', 'out');
  const check = argv.includes('--check');
  try {
    const { pages, warnings } = buildBook(rootDir, outDir, { check });
    for (const warning of warnings) console.warn(`warning: ${warning}`);
    const listings = pages.reduce((count, page) => count + page.includes.length, 0);
    const where = check ? 'checked' : `built into ${relative(process.cwd(), outDir) || '.'}`;
    console.log(`book: ${pages.length} pages, ${listings} listings ${where}`);
    return 0;
  } catch (error) {
    if (!(error instanceof BookError)) throw error;
    console.error(`book: ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}:`);
    for (const problem of error.problems) console.error(`  ${problem}`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
