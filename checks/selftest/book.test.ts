/** The book builder: markers, includes, rendering, and a whole build in a temporary repository. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BookError, buildBook, expandIncludes, extractRegion, renderPage } from '../../book/build.ts';
import { highlight } from '../../book/lib/highlight.ts';
import { pageOf } from '../../book/lib/render.ts';
import { TEACHING_CHAPTERS, chapterReferenceBodies, findLeaks, referenceBodies } from '../../book/lib/answers.ts';
import { FIGURES, expandFigures } from '../../book/lib/figures.ts';
import { Drawing } from '../../book/lib/svg.ts';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
const BUILD = join(REPOSITORY, 'book', 'build.ts');

const SOURCE = [
  'import x from "y";', //                       1
  'export class Thing {', //                     2
  '  // @book:start method', //                  3
  '  run(a: number): boolean {', //              4
  '    // @book:start inner', //                 5
  '    return a < 1 && a > -1;', //              6
  '    // @book:end inner', //                   7
  '  }', //                                      8
  '  // @book:end method', //                    9
  '}', //                                        10
].join('\n');

/** Runs `body`, expects a BookError, and returns its message. */
function bookError(body: () => unknown): string {
  try {
    body();
  } catch (error) {
    if (error instanceof BookError) return error.message;
    throw error;
  }
  assert.unreachable('expected a BookError');
  return '';
}

const files = (entries: Record<string, string>) => (path: string) => entries[path];

test('extracts a region without its marker lines, dedented', () => {
  const region = extractRegion(SOURCE, 'method', 'thing.ts');
  assert.is(region.code, 'run(a: number): boolean {\n  return a < 1 && a > -1;\n}');
  assert.is(region.firstLine, 4);
  assert.is(region.lastLine, 8);
});

test('extracts a nested region on its own', () => {
  assert.is(extractRegion(SOURCE, 'inner', 'thing.ts').code, 'return a < 1 && a > -1;');
});

test('strips the marker lines of overlapping regions', () => {
  const source = ['// @book:start a', 'one', '// @book:start b', 'two', '// @book:end a', 'three', '// @book:end b'].join('\n');
  assert.is(extractRegion(source, 'a', 'f.ts').code, 'one\ntwo');
  assert.is(extractRegion(source, 'b', 'f.ts').code, 'two\nthree');
});

test('dedents to the least indented line and keeps blank lines inside', () => {
  const source = ['    // @book:start r', '      deeper', '', '    shallow', '    // @book:end r'].join('\n');
  assert.is(extractRegion(source, 'r', 'f.ts').code, '  deeper\n\nshallow');
});

test('a missing marker names the file and the markers it has', () => {
  const message = bookError(() => extractRegion(SOURCE, 'nope', 'thing.ts'));
  assert.match(message, "no marker 'nope' in thing.ts");
  assert.match(message, 'method, inner');
});

test('an unterminated marker is reported with its line', () => {
  const message = bookError(() => extractRegion('a\n// @book:start open\nb', 'open', 'f.ts'));
  assert.match(message, "f.ts:2: marker 'open' is never ended");
});

test('a duplicated marker is reported with both places', () => {
  const source = ['// @book:start twice', 'a', '// @book:end twice', '// @book:start twice', 'b', '// @book:end twice'].join('\n');
  const message = bookError(() => extractRegion(source, 'twice', 'f.ts'));
  assert.match(message, "f.ts:4: duplicated marker 'twice' (already used at lines 1–3)");
});

test('an end without a start is reported', () => {
  assert.match(bookError(() => extractRegion('// @book:end lonely', 'lonely', 'f.ts')), 'f.ts:1:');
});

test('expands an include into a fenced listing with its source', () => {
  const page = 'Text.\n\n@include src/thing.ts#inner\n\nMore.';
  const { markdown, includes } = expandIncludes(page, files({ 'src/thing.ts': SOURCE }), 'book/01-x.md');
  assert.is(markdown, 'Text.\n\n```ts source=src%2Fthing.ts%23inner lines=6-6\nreturn a < 1 && a > -1;\n```\n\nMore.');
  assert.equal(includes, [{ path: 'src/thing.ts', name: 'inner', line: 3 }]);
});

test('includes a whole file without its marker lines', () => {
  const { markdown } = expandIncludes('@include src/thing.ts', files({ 'src/thing.ts': SOURCE }), 'p.md');
  assert.not.match(markdown, '@book');
  assert.match(markdown, 'export class Thing {\n  run(a: number)');
});

test('a missing marker fails with the page, its line and the include', () => {
  const page = '# Title\n\n@include src/thing.ts#missing';
  const message = bookError(() => expandIncludes(page, files({ 'src/thing.ts': SOURCE }), 'book/01-x.md'));
  assert.match(message, "book/01-x.md:3: @include src/thing.ts#missing: no marker 'missing' in src/thing.ts");
});

test('a missing file fails with the page and its line', () => {
  const message = bookError(() => expandIncludes('a\n@include src/gone.ts#x', files({}), 'book/02-y.md'));
  assert.match(message, 'book/02-y.md:2: @include src/gone.ts#x: no such file src/gone.ts');
});

test('every broken include of a page is reported at once', () => {
  const error = bookError(() => expandIncludes('@include a.ts#x\n@include b.ts#y', files({}), 'p.md'));
  assert.match(error, 'p.md:1:');
  assert.match(error, 'p.md:2:');
});

test('paths outside the repository are refused', () => {
  assert.match(bookError(() => expandIncludes('@include ../secret.ts', files({}), 'p.md')), 'relative to the repository root');
});

test('include lines inside fenced code are left alone', () => {
  const page = '```md\n@include src/gone.ts#x\n```';
  assert.is(expandIncludes(page, files({}), 'p.md').markdown, page);
});

test('a listing containing a fence gets a longer fence', () => {
  const source = '// @book:start doc\nconst s = `\n```\n`;\n// @book:end doc';
  const { markdown } = expandIncludes('@include d.ts#doc', files({ 'd.ts': source }), 'p.md');
  assert.ok(markdown.startsWith('````ts '));
  assert.ok(markdown.endsWith('\n````'));
});

test('code is HTML-escaped, in and out of highlighted tokens', () => {
  assert.is(highlight('a < b && c > "<d>"', 'text'), 'a &lt; b &amp;&amp; c &gt; &quot;&lt;d&gt;&quot;');
  const html = highlight('if (a < b) return "<script>"; // & done', 'ts');
  assert.not.match(html, '<script>');
  assert.match(html, '<span class="hl-keyword">if</span> (a &lt; b)');
  assert.match(html, '<span class="hl-string">&quot;&lt;script&gt;&quot;</span>');
  assert.match(html, '<span class="hl-comment">// &amp; done</span>');
});

test('renders a page with its listing, caption and navigation', () => {
  const markdown = '# Chapter one\n\n' + expandIncludes('@include src/thing.ts#method', files({ 'src/thing.ts': SOURCE }), 'p.md').markdown;
  const pages = [pageOf('index.md', '# The book'), pageOf('01-one.md', markdown), pageOf('02-two.md', '# Two')];
  const html = renderPage(pages[1]!, markdown + '\n\nSee [two](02-two.md#top).', { title: 'The book', pages });
  assert.match(html, '<h1 id="chapter-one">Chapter one</h1>');
  assert.match(html, '<figcaption><code class="source">src/thing.ts</code> <span class="marker">#method</span> <span class="lines">lines 4–8</span></figcaption>');
  assert.match(html, '<code class="language-ts">run(a: <span class="hl-type">number</span>)');
  assert.match(html, 'a &lt; <span class="hl-number">1</span> &amp;&amp; a &gt; -');
  assert.match(html, 'rel="prev" href="index.html"');
  assert.match(html, 'rel="next" href="02-two.html"');
  assert.match(html, 'href="02-two.html#top"');
  assert.match(html, '<a href="01-one.html" aria-current="page">01 · Chapter one</a>');
});

/** A throwaway repository with the given files; removed after `body`. */
function withRepository(entries: Record<string, string>, body: (root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'book-test-'));
  try {
    for (const [path, text] of Object.entries(entries)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    body(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('builds a book: index with the chapters that exist, a page per chapter, warnings for unused markers', () => {
  const repository = {
    'book/index.md': '# Sample book\n\n@chapters\n',
    'book/02-second.md': '# The second\n\nText.',
    'book/01-first.md': '# The first\n\n@include solutions/01-first/thing.ts#inner\n',
    'book/language.md': '# The language',
    'solutions/01-first/thing.ts': SOURCE,
  };
  withRepository(repository, (root) => {
    const out = join(root, 'out');
    const result = buildBook(root, out);
    assert.equal(result.pages.map((page) => page.file), ['index.md', '01-first.md', '02-second.md', 'language.md']);
    assert.equal(result.warnings, ["solutions/01-first/thing.ts: marker 'method' is not included by any page"]);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    assert.match(index, '<a href="01-first.html">The first</a>');
    assert.match(index, '<code>npm run check chapter-02</code>');
    assert.match(index, '<a href="language.html">The language</a>');
    assert.match(readFileSync(join(out, '01-first.html'), 'utf8'), 'solutions/01-first/thing.ts');
    assert.ok(existsSync(join(out, 'style.css')));
  });
});

test('a check build writes nothing and a broken book fails with every problem', () => {
  const repository = {
    'book/01-first.md': '# The first\n\n@include solutions/01-first/thing.ts#nope\n',
    'book/02-second.md': '# The second\n\n@include solutions/02-second/gone.ts\n',
    'solutions/01-first/thing.ts': SOURCE,
    'solutions/03-third/bad.ts': '// @book:start unended\n',
  };
  withRepository(repository, (root) => {
    const message = bookError(() => buildBook(root, join(root, 'out'), { check: true }));
    assert.match(message, "book/01-first.md:3: @include solutions/01-first/thing.ts#nope: no marker 'nope'");
    assert.match(message, 'book/02-second.md:3: @include solutions/02-second/gone.ts: no such file');
    assert.match(message, "solutions/03-third/bad.ts:1: marker 'unended' is never ended");
    assert.not.ok(existsSync(join(root, 'out')));
  });
});

test('the command line fails with the page and line of a broken include', () => {
  const repository = { 'book/01-first.md': '# The first\n\n@include solutions/gone.ts#x\n' };
  withRepository(repository, (root) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', BUILD, '--check', '--root', root], { encoding: 'utf8' });
    assert.is(run.status, 1, run.stderr);
    assert.match(run.stderr, 'book/01-first.md:3: @include solutions/gone.ts#x: no such file solutions/gone.ts');
  });
});

test('the repository book passes its check', () => {
  buildBook(REPOSITORY, join(REPOSITORY, 'book', 'out'), { check: true });
});

test('a page shows its own chapter\'s reference closed, other code open', () => {
  const sources = files({ 'solutions/01-x/a.ts': SOURCE, 'native/b.ts': SOURCE });
  const own = expandIncludes('@include solutions/01-x/a.ts#inner\n', sources, 'book/01-x.md').markdown;
  assert.match(own, /^<details class="reference">\n<summary>The reference: <code>a\.ts · inner<\/code>/);
  assert.match(own, /\n<\/details>\n?$/);
  const given = expandIncludes('@include native/b.ts#inner\n', sources, 'book/01-x.md').markdown;
  assert.not.match(given, /<details/, 'given code is shown open');
  const later = expandIncludes('@include solutions/01-x/a.ts#inner\n', sources, 'book/02-y.md').markdown;
  assert.not.match(later, /<details/, 'a later chapter shows earlier answers open');
  const scaffolded = files({ 'solutions/01-x/a.ts': SOURCE, 'chapters/01-x/a.ts': SOURCE });
  const fromScaffold = expandIncludes('@include solutions/01-x/a.ts#inner\n', scaffolded, 'book/01-x.md').markdown;
  assert.not.match(fromScaffold, /<details/, 'code the scaffold already gives is shown open');
});

const SCAFFOLD = [
  'export function area(w: number, h: number): number {',
  '  // TODO: multiply',
  "  return todo('area');",
  '}',
  '',
  'export const given = 1;',
].join('\n');

const ANSWER = [
  'export function area(w: number, h: number): number {',
  '  const width = Math.abs(w);',
  '  const height   =   Math.abs(h);',
  '  // a comment of the answer',
  '  if (width === 0) {',
  '    return 0;',
  '  }',
  '  return width * height;',
  '}',
  '',
  'export const given = 1;',
].join('\n');

test('a TODO\'s reference body is the code the solution has where the scaffold has a TODO', () => {
  const bodies = referenceBodies(SCAFFOLD, ANSWER, 'solutions/01-x/a.ts');
  assert.is(bodies.length, 1);
  assert.equal(bodies[0]!.lines.map((entry) => entry.text), [
    'const width = Math.abs(w);',
    'const height = Math.abs(h);',
    'if (width === 0) {',
    'return 0;',
    'return width * height;',
  ]);
  assert.is(bodies[0]!.lines[0]!.line, 2);
});

test('three consecutive lines of a body on a page are a leak; two, or three apart, are not', () => {
  const bodies = referenceBodies(SCAFFOLD, ANSWER, 'solutions/01-x/a.ts');
  const leak = findLeaks('Text\n```ts\n   const width = Math.abs(w);\n\nconst height = Math.abs(h);\n}\nif (width === 0) {\n```', bodies);
  assert.is(leak.length, 1, 'whitespace, blank lines and lone braces do not hide a leak');
  assert.is(leak[0]!.line, 2);
  assert.is(leak[0]!.lastLine, 5);
  assert.equal(findLeaks('const width = Math.abs(w);\nconst height = Math.abs(h);\n', bodies), []);
  assert.equal(findLeaks('const width = Math.abs(w);\nsomething else\nconst height = Math.abs(h);\nif (width === 0) {', bodies), []);
  assert.equal(findLeaks('export const given = 1;\nexport function area(w: number, h: number): number {', bodies), [], 'code the scaffold gives is no answer');
});

test('the build refuses a teaching chapter\'s page that shows a TODO\'s reference body, and says where', () => {
  const answer = ANSWER.replace('export function area', '// @book:start area\nexport function area').replace('\n\nexport const given', '\n// @book:end area\n\nexport const given');
  const chapter = TEACHING_CHAPTERS[0]!;
  const repository = {
    [`book/${chapter}-x.md`]: '# X\n\n@include solutions/' + chapter + '-x/a.ts#area\n',
    [`solutions/${chapter}-x/a.ts`]: answer,
    [`chapters/${chapter}-x/a.ts`]: SCAFFOLD,
    'book/99-later.md': '# Later\n\n@include solutions/' + chapter + '-x/a.ts#area\n',
  };
  withRepository(repository, (root) => {
    const message = bookError(() => buildBook(root, join(root, 'out'), { check: true }));
    assert.match(message, `book/${chapter}-x.md shows 5 lines of a TODO's reference body, solutions/${chapter}-x/a.ts:3-9`);
    assert.not.match(message, 'book/99-later.md', 'a later chapter may show an earlier chapter\'s answer');
  });
});

test('every teaching chapter\'s page is free of its reference bodies (and the other pages are reported)', () => {
  const result = buildBook(REPOSITORY, join(REPOSITORY, 'book', 'out'), { check: true });
  for (const page of result.pages.filter((page) => page.number !== undefined)) {
    const slug = page.file.replace(/\.md$/, '');
    const markdown = expandIncludes(readFileSync(join(REPOSITORY, 'book', page.file), 'utf8'), (path) => {
      const full = join(REPOSITORY, path);
      return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    }, `book/${page.file}`).markdown;
    const leaks = findLeaks(markdown, chapterReferenceBodies(REPOSITORY, slug));
    if (TEACHING_CHAPTERS.includes(page.number!)) {
      assert.equal(leaks.map((leak) => `${leak.file}:${leak.line}`), [], `book/${page.file} shows reference bodies`);
      assert.ok(chapterReferenceBodies(REPOSITORY, slug).length > 0, `chapter ${page.number} has reference bodies to look for`);
    } else if (leaks.length > 0) {
      const where = leaks.map((leak) => `${leak.file.replace(/^solutions\/[^/]+\//, '')}:${leak.line}-${leak.lastLine}`);
      const lines = leaks.reduce((sum, leak) => sum + leak.text.length, 0);
      console.log(`  note: book/${page.file} (not yet checked) shows ${lines} lines of reference bodies from solutions/${slug}/: ${where.join(', ')}`);
    }
  }
});

test('a figure needs alt text; figures are drawn by name and an unknown name is a problem', () => {
  assert.throws(() => new Drawing(10, 10, ''), /alt text/);
  const html = new Drawing(100, 40, 'a box that says hello').box(0, 0, 50, 20, 'hello').render('A <em>box</em>.');
  assert.match(html, /^<figure class="drawing"><svg [^>]*role="img" aria-label="a box that says hello"><title>a box that says hello<\/title>/);
  assert.not.match(html, '\n', 'a figure is one line, so page line numbers stay right');
  const drawn = expandFigures('# T\n\n@figure region-life\n\n```\n@figure nope\n```\n@figure nope', 'book/01-x.md');
  assert.equal(drawn.figures, ['region-life']);
  assert.equal(drawn.problems.length, 1);
  assert.match(drawn.problems[0]!, "book/01-x.md:8: no figure 'nope'");
  for (const [name, draw] of Object.entries(FIGURES)) assert.match(draw(), /aria-label="[^"]{20,}"/, `${name} has alt text`);
});

test('encoding figures show the bytes the reference adder emits', async () => {
  const { adderCode } = await import('../../solutions/02-add-four/add-four.ts');
  const x64 = FIGURES['x64-adder-forms']!();
  for (const k of [4n, 1000n, 0x123456789an]) {
    const bytes = [...adderCode(k, 'x64')].map((byte) => byte.toString(16).padStart(2, '0'));
    for (const byte of bytes.slice(3, -1)) assert.match(x64, `>${byte}</text>`);
  }
  const word = new DataView(adderCode(4n, 'arm64').buffer).getUint32(0, true);
  assert.match(FIGURES['arm64-add-imm']!(), `0x${word.toString(16).padStart(8, '0')}`);
});

test('the figures of chapters 03 to 08 show what the reference code produces', async () => {
  const x64 = await import('../../solutions/03-encoders/x64.ts');
  const a64 = await import('../../solutions/03-encoders/arm64.ts');
  const hexOf = (bytes: readonly number[]) => bytes.map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
  const memory = FIGURES['x64-memory-operands']!();
  for (const bytes of [x64.movq_rm(x64.Reg.rax, x64.mem(x64.Reg.rsp, 8)), x64.movq_rm(x64.Reg.rax, x64.mem(x64.Reg.r13))]) {
    assert.match(memory, `>${hexOf(bytes)}</text>`);
  }
  assert.match(memory, 'SIB 24 (00 100 100)', 'the alt text names the SIB byte of [rsp + 8]');
  assert.match(FIGURES['x64-immediate-forms']!(), `>${hexOf(x64.addq_ri(x64.Reg.r9, 1000))}</text>`);
  const fields = FIGURES['arm64-instruction-fields']!();
  for (const word of [a64.ldr_imm(a64.Reg.x0, a64.Reg.sp, 16), a64.b_cond(a64.Cond.ne, -8), a64.movk(a64.Reg.x0, 0x5678)]) {
    assert.match(fields, `0x${word.toString(16).padStart(8, '0')}`);
  }
  const { parseExpr } = await import('../../solutions/05-parser/parser.ts');
  const { printExpr } = await import('../../solutions/05-parser/printer.ts');
  assert.match(FIGURES['binding-powers']!(), printExpr(parseExpr('1 + 2 * 3 - 4')));
  // The others run the reference in a child process and check themselves against the code it
  // emitted (a frame offset no slot explains, a patched branch that misses its label, throw).
  for (const name of ['frame-layout', 'labels-and-fixups', 'loop-bytecode', 'compiled-frame', 'ssa-loop-dominators']) {
    assert.match(FIGURES[name]!(), /^<figure class="drawing">/, `${name} draws`);
  }
  assert.match(FIGURES['loop-bytecode']!(), /jump_if_false 00\d\d/);
  assert.match(FIGURES['ssa-loop-dominators']!(), / = phi int \[b\d+: v\d+\], \[b\d+: v\d+\]/);
});

test.run();
