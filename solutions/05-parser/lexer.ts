/**
 * Chapter 05: the lexer.
 *
 * Turns source text into a flat array of tokens, ending with one `eof` token. Each token
 * records its kind, the exact text it was made from, and where that text starts (line and
 * column, both from 1). The lexer knows nothing about grammar: `) ) fn +` lexes fine.
 *
 *   fn add(a, b) { return a + b; }
 *   ──▶ fn  name:add  (  name:a  ,  name:b  )  {  return  name:a  +  name:b  ;  }  eof
 */
import { CompileError } from './errors.ts';

/** Words the parser treats specially. Keywords lex as tokens whose kind is the word itself. */
export const KEYWORDS = ['fn', 'let', 'if', 'else', 'while', 'return', 'print', 'true', 'false'] as const;

/**
 * Words kept for later chapters (exceptions in 10, heap objects in 11, loop exits for anyone
 * who wants them), so that no program written today breaks when they arrive. They lex as
 * keywords; no rule of today's grammar accepts them, so using one is a syntax error.
 */
export const RESERVED = ['throw', 'try', 'catch', 'finally', 'struct', 'new', 'null', 'for', 'break', 'continue'] as const;

/**
 * Operators and punctuation, longest first, so that `>>>` wins over `>>` and `>`, and
 * `==` over `=`. `[`, `]` and `.` are lexed already for arrays and fields (chapter 11).
 */
export const PUNCTUATION = [
  '>>>',
  '==', '!=', '<=', '>=', '<<', '>>', '&&', '||',
  '(', ')', '{', '}', '[', ']', ',', ';', ':', '.', '=',
  '+', '-', '*', '/', '%', '<', '>', '&', '|', '^', '~', '!',
] as const;

export type Keyword = (typeof KEYWORDS)[number] | (typeof RESERVED)[number];
export type Punctuation = (typeof PUNCTUATION)[number];

/** `int` (a literal), `name` (an identifier), a keyword, a punctuation mark, or the end. */
export type TokenKind = 'int' | 'name' | 'eof' | Keyword | Punctuation;

export interface Token {
  readonly kind: TokenKind;
  /** The source text of the token: `while`, `>>=`, `0xff`, `count`. Empty for `eof`. */
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

/** Keywords and reserved words together, for the lexer's lookup. */
export const WORDS: ReadonlySet<string> = new Set<string>([...KEYWORDS, ...RESERVED]);

export function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export function isHexDigit(c: string): boolean {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

export function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

export function isNameChar(c: string): boolean {
  return isNameStart(c) || isDigit(c);
}

/** How a token is named in an error message: `'{'`, `'count'`, or `end of input`. */
export function describe(token: Token): string {
  return token.kind === 'eof' ? 'end of input' : `'${token.text}'`;
}

// @book:start tokenize
/**
 * Splits `source` into tokens. Skips spaces, tabs, newlines and `//` comments. Errors:
 *
 *   L:C: unexpected character '$'
 *   L:C: invalid number literal '12ab'        (a number running into letters, or a bare `0x`)
 *
 * The value of an integer literal (and whether it fits in 64 bits) is the parser's business.
 */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let column = 1;

  /** Moves past `count` characters that are not newlines. */
  const skip = (count: number): void => {
    pos += count;
    column += count;
  };

  while (pos < source.length) {
    const c = source[pos]!;
    if (c === '\n') {
      pos++;
      line++;
      column = 1;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      skip(1);
    } else if (c === '/' && source[pos + 1] === '/') {
      while (pos < source.length && source[pos] !== '\n') skip(1);
    } else if (isDigit(c)) {
      // Take the whole run of letters and digits, then decide whether it is a number.
      let end = pos;
      while (end < source.length && isNameChar(source[end]!)) end++;
      const text = source.slice(pos, end);
      if (!/^(\d+|0[xX][0-9a-fA-F]+)$/.test(text)) {
        throw new CompileError(line, column, `invalid number literal '${text}'`);
      }
      tokens.push({ kind: 'int', text, line, column });
      skip(text.length);
    } else if (isNameStart(c)) {
      let end = pos;
      while (end < source.length && isNameChar(source[end]!)) end++;
      const text = source.slice(pos, end);
      const kind: TokenKind = WORDS.has(text) ? (text as Keyword) : 'name';
      tokens.push({ kind, text, line, column });
      skip(text.length);
    } else {
      const mark = PUNCTUATION.find((p) => source.startsWith(p, pos));
      if (mark === undefined) {
        const shown = String.fromCodePoint(source.codePointAt(pos)!);
        throw new CompileError(line, column, `unexpected character '${shown}'`);
      }
      tokens.push({ kind: mark, text: mark, line, column });
      skip(mark.length);
    }
  }
  tokens.push({ kind: 'eof', text: '', line, column });
  return tokens;
}
// @book:end tokenize
