/**
 * A small TypeScript highlighter: comments, strings, numbers, keywords and literals become
 * `<span class="hl-…">`. Everything is HTML-escaped; other languages are only escaped.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}

const KEYWORDS = [
  'abstract', 'as', 'async', 'await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'declare',
  'default', 'delete', 'do', 'else', 'export', 'extends', 'finally', 'for', 'from', 'function', 'get',
  'if', 'implements', 'import', 'in', 'instanceof', 'interface', 'keyof', 'let', 'new', 'of', 'override',
  'private', 'protected', 'public', 'readonly', 'return', 'satisfies', 'set', 'static', 'super', 'switch',
  'throw', 'try', 'type', 'typeof', 'var', 'void', 'while', 'yield',
];
const LITERALS = ['true', 'false', 'null', 'undefined', 'this'];
const TYPES = ['any', 'bigint', 'boolean', 'never', 'number', 'string', 'symbol', 'unknown'];

const TOKEN = new RegExp(
  [
    String.raw`(?<comment>\/\/[^\n]*|\/\*[\s\S]*?\*\/)`,
    String.raw`(?<string>'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|` + '`' + String.raw`(?:\\[\s\S]|[^` + '`' + String.raw`\\])*` + '`)',
    String.raw`(?<number>\b(?:0[xXbBoO][\da-fA-F_]+|\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)n?\b)`,
    String.raw`(?<keyword>(?<![\w$.])(?:${KEYWORDS.join('|')})(?![\w$]))`,
    String.raw`(?<literal>(?<![\w$.])(?:${LITERALS.join('|')})(?![\w$]))`,
    String.raw`(?<type>(?<![\w$.])(?:${TYPES.join('|')})(?![\w$]))`,
  ].join('|'),
  'g',
);

const HIGHLIGHTED = new Set(['ts', 'typescript', 'js', 'javascript', 'tsx', 'jsx']);

/** The HTML of `code` in `language`, escaped, with highlighting spans for TypeScript and JavaScript. */
export function highlight(code: string, language: string): string {
  if (!HIGHLIGHTED.has(language)) return escapeHtml(code);
  let html = '';
  let last = 0;
  for (const match of code.matchAll(TOKEN)) {
    const kind = Object.entries(match.groups!).find(([, text]) => text !== undefined)![0];
    html += escapeHtml(code.slice(last, match.index)) + `<span class="hl-${kind}">${escapeHtml(match[0])}</span>`;
    last = match.index! + match[0].length;
  }
  return html + escapeHtml(code.slice(last));
}
