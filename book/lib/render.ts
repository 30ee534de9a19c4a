/** Markdown to HTML pages: the markdown-it setup, the page template and the navigation. */
import MarkdownIt from 'markdown-it';
import type Token from 'markdown-it/lib/token.mjs';
import { CHAPTERS } from '../../checks/manifest.ts';
import { escapeHtml, highlight } from './highlight.ts';

/** True when the page belongs to a chapter the manifest marks as still being written. */
function isDraft(page: Page): boolean {
  return CHAPTERS.some((chapter) => chapter.number === page.number && chapter.draft === true);
}

/** A page of the book, in reading order. */
export interface Page {
  /** The markdown file name, e.g. '03-encoders.md'. */
  readonly file: string;
  /** The output file name, e.g. '03-encoders.html'. */
  readonly href: string;
  /** '03' for a chapter page, undefined for the index and appendices. */
  readonly number: string | undefined;
  /** The text of the page's first `# ` heading (inline markdown). */
  readonly title: string;
}

export interface Book {
  readonly title: string;
  readonly pages: readonly Page[];
}

const CHAPTER_FILE = /^(\d\d)-[\w-]+\.md$/;

/** The page for a markdown file; the title is its first `# ` heading (outside code), else the file name. */
export function pageOf(file: string, markdown: string): Page {
  let inFence = false;
  let title = file.replace(/\.md$/, '');
  for (const line of markdown.split(/\r?\n/)) {
    if (/^\s{0,3}(```|~~~)/.test(line)) inFence = !inFence;
    const heading = /^# +(.*?)\s*#*\s*$/.exec(line);
    if (!inFence && heading) {
      title = heading[1]!;
      break;
    }
  }
  return { file, href: file.replace(/\.md$/, '.html'), number: CHAPTER_FILE.exec(file)?.[1], title };
}

/** Reading order: the index, the chapters by number, then the other pages (appendices) by name. */
export function readingOrder(pages: readonly Page[]): Page[] {
  const rank = (page: Page) => (page.file === 'index.md' ? 0 : page.number !== undefined ? 1 : 2);
  return [...pages].sort((a, b) => rank(a) - rank(b) || a.file.localeCompare(b.file));
}

const markdown = createMarkdown();

function createMarkdown(): MarkdownIt {
  const md = new MarkdownIt({ html: true, linkify: false, typographer: false });

  md.renderer.rules.fence = (tokens, index) => {
    const { language, source, lines } = parseInfo(tokens[index]!.info);
    const code = highlight(tokens[index]!.content.replace(/\n$/, ''), language);
    const languageClass = language ? ` class="language-${escapeHtml(language)}"` : '';
    const block = `<pre><code${languageClass}>${code}</code></pre>`;
    if (source === undefined) return `${block}\n`;
    const [path, name] = source.split('#');
    const where = lines ? ` <span class="lines">lines ${escapeHtml(lines.replace('-', '–'))}</span>` : '';
    const marker = name ? ` <span class="marker">#${escapeHtml(name)}</span>` : '';
    return `<figure class="listing"><figcaption><code class="source">${escapeHtml(path!)}</code>${marker}${where}</figcaption>${block}</figure>\n`;
  };

  // Links between pages are written to the markdown files; the HTML book links the HTML pages.
  const renderLinkOpen = md.renderer.rules.link_open ?? ((tokens, index, options, _env, self) => self.renderToken(tokens, index, options));
  md.renderer.rules.link_open = (tokens, index, options, env, self) => {
    const href = tokens[index]!.attrGet('href');
    if (href && /^[^:/?#]+\.md(#|$)/.test(href)) tokens[index]!.attrSet('href', href.replace(/\.md(#|$)/, '.html$1'));
    // A link out of book/ (`../README.md`) starts one folder deeper in the HTML book, book/out/.
    else if (href?.startsWith('../')) tokens[index]!.attrSet('href', `../${href}`);
    return renderLinkOpen(tokens, index, options, env, self);
  };

  md.core.ruler.push('heading_ids', (state) => {
    const used = new Set<string>();
    state.tokens.forEach((token: Token, index: number) => {
      if (token.type !== 'heading_open' || token.attrGet('id')) return;
      const base = slugify(state.tokens[index + 1]!.content) || 'section';
      let id = base;
      for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
      used.add(id);
      token.attrSet('id', id);
    });
  });
  return md;
}

/** Reads a fence info string: `ts source=PATH%23NAME lines=75-88`. */
function parseInfo(info: string): { language: string; source: string | undefined; lines: string | undefined } {
  const [language = '', ...attributes] = info.trim().split(/\s+/);
  const value = (key: string) => {
    const found = attributes.find((attribute) => attribute.startsWith(`${key}=`));
    return found === undefined ? undefined : decodeURIComponent(found.slice(key.length + 1));
  };
  return { language, source: value('source'), lines: value('lines') };
}

export function slugify(text: string): string {
  return text.toLowerCase().replace(/<[^>]*>|[`*_]/g, '').replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '');
}

/** The markdown of the index's table of pages, which replaces an `@chapters` line. */
export function chapterTable(pages: readonly Page[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = pages
    .filter((page) => page.file !== 'index.md')
    .map((page) => {
      const check = page.number === undefined ? '' : isDraft(page) ? 'in preparation' : `\`npm run check chapter-${page.number}\``;
      return `| ${page.number ?? ''} | [${cell(page.title)}](${page.file}) | ${check} |`;
    });
  if (rows.length === 0) return '*No chapter pages yet.*';
  return ['| # | Chapter | Check |', '|---|---------|-------|', ...rows].join('\n');
}

/** A complete HTML page: table of contents, the page's markdown rendered, previous/next links. */
export function renderPage(page: Page, pageMarkdown: string, book: Book): string {
  const position = book.pages.findIndex((other) => other.file === page.file);
  const previous = book.pages[position - 1];
  const next = book.pages[position + 1];
  const label = (other: Page) => (other.number ? `${other.number} · ` : '') + markdown.renderInline(other.title);
  const toc = book.pages
    .map((other) => {
      const current = other.file === page.file ? ' aria-current="page"' : '';
      return `<li><a href="${escapeHtml(other.href)}"${current}>${label(other)}</a></li>`;
    })
    .join('\n');
  const pager = [
    previous ? `<a class="previous" rel="prev" href="${escapeHtml(previous.href)}">← ${label(previous)}</a>` : '<span></span>',
    next ? `<a class="next" rel="next" href="${escapeHtml(next.href)}">${label(next)} →</a>` : '<span></span>',
  ].join('\n');
  const plainTitle = markdown.renderInline(page.title).replace(/<[^>]*>/g, '');
  const plainBookTitle = markdown.renderInline(book.title).replace(/<[^>]*>/g, '');
  const headTitle = page.file === 'index.md' ? plainBookTitle : `${page.number ? `${page.number} · ` : ''}${plainTitle} — ${plainBookTitle}`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${headTitle}</title>
<link rel="stylesheet" href="style.css">
</head>
<body>
<nav class="toc" aria-label="Table of contents">
<a class="book-title" href="index.html">${markdown.renderInline(book.title)}</a>
<ol>
${toc}
</ol>
</nav>
<main>
<article>
${isDraft(page) ? '<p class="draft-note" role="note">This chapter is in preparation: its page, scaffold and checks are still being written.</p>\n' : ''}${markdown.render(pageMarkdown)}
</article>
<nav class="pager" aria-label="Previous and next page">
${pager}
</nav>
</main>
</body>
</html>
`;
}
