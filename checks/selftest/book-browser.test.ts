/**
 * The book in a real browser: builds the book into a temporary directory, serves it on
 * 127.0.0.1 and loads pages in headless Chromium, checking the DOM the browser built.
 *
 * Without Chromium (CHROMIUM, default /usr/bin/chromium) the tests print a SKIP line;
 * with REQUIRE_BROWSER=1 a missing Chromium fails them instead.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildBook } from '../../book/build.ts';
import { escapeHtml } from '../../book/lib/highlight.ts';
import { FIGURES } from '../../book/lib/figures.ts';
import { TEACHING_CHAPTERS, chapterReferenceBodies, describeLeak, findLeaks } from '../../book/lib/answers.ts';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const REQUIRE_BROWSER = process.env.REQUIRE_BROWSER === '1';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** True when the browser tests can run; prints why not, or throws under REQUIRE_BROWSER=1. */
function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const why = `chromium not installed at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM=/path/to/chromium)`;
  if (REQUIRE_BROWSER) throw new Error(`REQUIRE_BROWSER=1 but ${why}`);
  console.log(`SKIP: ${why}`);
  return false;
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** Serves `dir` on a free port of 127.0.0.1; records every requested path. */
async function serve(dir: string): Promise<{ server: Server; base: string; requested: string[] }> {
  const requested: string[] = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    requested.push(path);
    const file = join(dir, normalize(path === '/' ? '/index.html' : path));
    if (!file.startsWith(dir) || !existsSync(file)) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    response.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, base: `http://127.0.0.1:${address.port}`, requested };
}

/**
 * The DOM Chromium built for `url`, serialized. Runs asynchronously, so the server can answer.
 * `waitMs` lets the page's own scripts run that long (in virtual time) before the dump.
 */
async function dumpDom(url: string, waitMs = 0): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'book-chromium-'));
  try {
    const { stdout } = await promisify(execFile)(
      CHROMIUM,
      [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--user-data-dir=${profile}`, ...(waitMs > 0 ? [`--virtual-time-budget=${waitMs}`] : []), '--dump-dom', url,
      ],
      { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The text of an HTML fragment: tags removed, the usual entities decoded. */
function textOf(html: string): string {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: '\u00a0' };
  return html.replace(/<[^>]*>/g, '').replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, name: string) => entities[name]!);
}

const served = new Map<string, string>();

/** The directory a served book's base URL serves. */
function servedDir(base: string): string {
  return served.get(base)!;
}

/** Builds the book of `root` into a temporary directory, serves it, and hands both to `body`. */
async function withServedBook(root: string, body: (site: { base: string; requested: string[]; result: ReturnType<typeof buildBook> }) => Promise<void>) {
  const out = mkdtempSync(join(tmpdir(), 'book-out-'));
  const { server, base, requested } = await serve(out);
  served.set(base, out);
  try {
    await body({ base, requested, result: buildBook(root, out) });
  } finally {
    server.close();
    rmSync(out, { recursive: true, force: true });
  }
}

test('a sample chapter with a listing from solutions/ renders in Chromium', async () => {
  if (!browserAvailable()) return;
  const root = mkdtempSync(join(tmpdir(), 'book-repo-'));
  try {
    mkdirSync(join(root, 'book'));
    mkdirSync(join(root, 'solutions', '01-executable-memory'), { recursive: true });
    // A listing of its own, so the sample does not depend on which markers the real solutions keep.
    const source = [
      'export class CodeRegion {',
      '  // @book:start allocate',
      '  static allocate(size: number): CodeRegion {',
      '    return new CodeRegion();',
      '  }',
      '  // @book:end allocate',
      '  readonly size = 0;',
      '}',
      '',
    ].join('\n');
    writeFileSync(join(root, 'solutions/01-executable-memory/code-region.ts'), source);
    writeFileSync(join(root, 'book/index.md'), readFileSync(join(ROOT, 'book/index.md'), 'utf8'));
    writeFileSync(join(root, 'book/01-sample.md'), '# Sample chapter\n\nText.\n\n@include solutions/01-executable-memory/code-region.ts#allocate\n');
    await withServedBook(root, async ({ base, requested }) => {
      const chapter = await dumpDom(`${base}/01-sample.html`);
      assert.match(chapter, '<h1 id="sample-chapter">Sample chapter</h1>');
      assert.match(chapter, '<code class="source">solutions/01-executable-memory/code-region.ts</code>');
      assert.match(chapter, '<span class="hl-keyword">static</span> allocate(size: <span class="hl-type">number</span>): CodeRegion {');
      assert.match(chapter, 'rel="prev" href="index.html"');
      assert.ok(requested.includes('/style.css'), 'the browser loaded the stylesheet');

      const index = await dumpDom(`${base}/`);
      assert.match(index, '<a href="01-sample.html">Sample chapter</a>');
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the repository book renders in Chromium: the index lists every page, a chapter shows its listing', async () => {
  if (!browserAvailable()) return;
  await withServedBook(ROOT, async ({ base, result }) => {
    const index = await dumpDom(`${base}/index.html`);
    assert.match(index, '<h1 id="build-a-jit-compiler-in-typescript">');
    for (const page of result.pages.filter((page) => page.file !== 'index.md')) {
      assert.match(index, `href="${page.href}"`, `the index links ${page.href}`);
    }
    const chapter = result.pages.find((page) => page.number !== undefined && page.includes.length > 0);
    if (!chapter) {
      console.log('SKIP: no chapter page in book/ includes a listing yet');
      return;
    }
    const dom = await dumpDom(`${base}/${chapter.href}`);
    const heading = /<h1[^>]*>([\s\S]*?)<\/h1>/.exec(dom);
    assert.ok(heading, `${chapter.href} has a heading`);
    assert.is(textOf(heading[1]!), chapter.title.replace(/[`*_]/g, ''));
    const first = chapter.includes[0]!;
    assert.match(dom, `<code class="source">${escapeHtml(first.path)}</code>`);
    assert.match(dom, '<figure class="listing">');
  });
});

/**
 * A page that loads `page` in a frame and measures every figure the browser laid out: its
 * alt text, and the size of its drawing and of the text in it. Written into the served book.
 */
function figureProbe(page: string): string {
  return `<!doctype html><html><body><iframe id="page" src="${page}" width="1200" height="800"></iframe><pre id="result">waiting</pre>
<script>
document.getElementById('page').addEventListener('load', () => {
  const doc = document.getElementById('page').contentDocument;
  const figures = [...doc.querySelectorAll('figure.drawing')].map((figure) => {
    const svg = figure.querySelector('svg');
    if (!svg) return { svg: false };
    const box = svg.getBBox();
    const texts = [...svg.querySelectorAll('text')];
    return {
      svg: svg instanceof doc.defaultView.SVGSVGElement,
      alt: svg.getAttribute('aria-label') || '',
      title: (svg.querySelector('title') || {}).textContent || '',
      role: svg.getAttribute('role'),
      width: box.width, height: box.height,
      shapes: svg.querySelectorAll('rect, line, polygon, path').length,
      texts: texts.length,
      emptyTexts: texts.filter((text) => text.getComputedTextLength() === 0 && text.textContent.trim() !== '').length,
      caption: (figure.querySelector('figcaption') || {}).textContent || '',
    };
  });
  document.getElementById('result').textContent = JSON.stringify(figures);
});
</script></body></html>`;
}

interface MeasuredFigure {
  svg: boolean; alt: string; title: string; role: string | null; width: number; height: number;
  shapes: number; texts: number; emptyTexts: number; caption: string;
}

test('every figure of the book has alt text and renders: a laid-out drawing with shapes and visible text', async () => {
  if (!browserAvailable()) return;
  await withServedBook(ROOT, async ({ base, result }) => {
    const out = result.pages;
    const withFigures = out.filter((page) => page.figures.length > 0);
    for (const chapter of TEACHING_CHAPTERS) {
      const page = out.find((candidate) => candidate.number === chapter);
      assert.ok(page && page.figures.length > 0, `the page of chapter ${chapter} has figures`);
    }
    for (const page of withFigures) {
      const probe = `probe-${page.href}`;
      writeFileSync(join(servedDir(base), probe), figureProbe(page.href));
      const dom = await dumpDom(`${base}/${probe}`, 5000);
      const json = /<pre id="result">([\s\S]*?)<\/pre>/.exec(dom)?.[1];
      assert.ok(json && json !== 'waiting', `the probe measured ${page.href}`);
      checkFigures(page.href, page.figures, JSON.parse(textOf(json!)) as MeasuredFigure[]);
    }
  });
});

/** Checks what the probe measured of every figure of `page`, named by `names`. */
function checkFigures(page: string, names: readonly string[], figures: readonly MeasuredFigure[]): void {
  assert.is(figures.length, names.length, `${page}: every @figure became a figure`);
  figures.forEach((figure, i) => {
    const name = `${page}, figure ${names[i]}`;
    assert.ok(figure.svg, `${name} is an SVG element`);
    assert.is(figure.role, 'img', `${name} has role img`);
    assert.ok(figure.alt.length >= 20, `${name} has alt text`);
    assert.is(figure.title, figure.alt, `${name} carries its alt text as a <title> too`);
    assert.ok(figure.width > 100 && figure.height > 30, `${name} is laid out (${figure.width}×${figure.height})`);
    assert.ok(figure.shapes > 0 && figure.texts > 0, `${name} draws shapes and text`);
    assert.is(figure.emptyTexts, 0, `${name}: every label has a width`);
    assert.ok(figure.caption.length > 0, `${name} has a caption`);
  });
}

test('every registered figure renders, also those no page draws yet', async () => {
  if (!browserAvailable()) return;
  // A book of the index alone serves the stylesheet; the figures go on a page of their own.
  const root = mkdtempSync(join(tmpdir(), 'book-figures-'));
  mkdirSync(join(root, 'book'));
  writeFileSync(join(root, 'book/index.md'), readFileSync(join(ROOT, 'book/index.md'), 'utf8'));
  await withServedBook(root, async ({ base }) => {
    const names = Object.keys(FIGURES);
    const page = 'all-figures.html';
    const body = names.map((name) => `<h2>${escapeHtml(name)}</h2>\n${FIGURES[name]!()}`).join('\n');
    writeFileSync(join(servedDir(base), page), `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="style.css"></head><body><main><article>${body}</article></main></body></html>`);
    writeFileSync(join(servedDir(base), `probe-${page}`), figureProbe(page));
    const dom = await dumpDom(`${base}/probe-${page}`, 5000);
    const json = /<pre id="result">([\s\S]*?)<\/pre>/.exec(dom)?.[1];
    assert.ok(json && json !== 'waiting', `the probe measured ${page}`);
    checkFigures(page, names, JSON.parse(textOf(json!)) as MeasuredFigure[]);
  }).finally(() => rmSync(root, { recursive: true, force: true }));
});

test('no teaching chapter\'s built page shows three consecutive lines of a TODO\'s reference body', async () => {
  if (!browserAvailable()) return;
  await withServedBook(ROOT, async ({ base, result }) => {
    for (const chapter of TEACHING_CHAPTERS) {
      const page = result.pages.find((candidate) => candidate.number === chapter);
      assert.ok(page, `chapter ${chapter} has a page`);
      const dom = await dumpDom(`${base}/${page!.href}`);
      const article = /<article>([\s\S]*)<\/article>/.exec(dom)?.[1] ?? dom;
      // Every element on a line of its own, so the text keeps the lines of listings and paragraphs.
      const text = textOf(article.replace(/<(br|\/p|\/li|\/tr|\/h\d|\/pre|\/figure)\b[^>]*>/g, '\n$&'));
      const bodies = chapterReferenceBodies(ROOT, page!.file.replace(/\.md$/, ''));
      assert.ok(bodies.length > 0, `chapter ${chapter} has reference bodies to look for`);
      const leaks = findLeaks(text, bodies).map((leak) => describeLeak(page!.href, leak));
      assert.equal(leaks, [], leaks.join('\n'));
    }
  });
});

test.run();
