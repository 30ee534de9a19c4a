/**
 * Chapter 05: the lexer.
 *
 * Turns source text into a flat array of tokens, ending with one `eof` token. Each token
 * records its kind, the exact text it was made from, and where that text starts (line and
 * column, both from 1). The lexer knows nothing about grammar: `) ) fn +` lexes fine.
 *
 *   fn add(a, b) { return a + b; }
 *   ──▶ fn  name:add  (  name:a  ,  name:b  )  {  return  name:a  +  name:b  ;  }  eof
 *
 * Which words are keywords and which marks are punctuation comes from the grammar (see
 * grammar.ts), so that a later chapter adding `throw` or `?` extends a table, not this file.
 *
 * Positions, as the language reference defines them: a line ends at LF, at CR, or at the
 * pair CR LF (one line end, not two); a column counts characters (Unicode code points, so
 * `é` and `😀` are one column each, and a tab is one column too); a UTF-8 byte-order mark
 * at the very start of the source is skipped and takes no column.
 */
import { CompileError } from './errors.ts';
import { todo } from '#native/todo.ts';

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

/**
 * `int` (a literal), `name` (an identifier), a keyword, a punctuation mark, or the end. The
 * core kinds are spelled out for completion; any other string is the kind of a keyword or
 * mark that an extended grammar added.
 */
export type TokenKind = 'int' | 'name' | 'eof' | Keyword | Punctuation | (string & {});

export interface Token {
  readonly kind: TokenKind;
  /** The source text of the token: `while`, `>>=`, `0xff`, `count`. Empty for `eof`. */
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

/** What the lexer needs from a grammar: its words and its marks. A `Grammar` is one. */
export interface Lexicon {
  /** Words that lex as keyword tokens (kind = the word) instead of names. */
  readonly keywords: ReadonlySet<string>;
  /** Punctuation marks, longest first. */
  readonly punctuation: readonly string[];
}

/** Keywords and reserved words together, for the lexer's lookup. */
export const WORDS: ReadonlySet<string> = new Set<string>([...KEYWORDS, ...RESERVED]);

/** The core language's words and marks: what `tokenize` uses when given no grammar. */
export const CORE_LEXICON: Lexicon = { keywords: WORDS, punctuation: PUNCTUATION };

/** The byte-order mark (U+FEFF) some editors write at the start of a UTF-8 file. */
export const BYTE_ORDER_MARK = '\uFEFF';

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

/**
 * How a character is named in an error message, so that the message itself stays printable:
 * a visible ASCII character in quotes (`'@'`), any other visible character in quotes with its
 * code point (`'é' (U+00E9)`), and an invisible one (a control character such as NUL or ESC,
 * a non-breaking space, a stray byte-order mark) by its code point alone (`U+001B`).
 */
export function describeCharacter(c: string): string {
  const code = c.codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code > 0x20 && code < 0x7f) return `'${c}'`;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(c) ? `'${c}' (${hex})` : hex;
}

/**
 * Splits `source` into tokens, with the words and marks of `lexicon` (by default the core
 * language's). Skips spaces, tabs, line ends and `//` comments. Errors:
 *
 *   L:C: unexpected character '$'             (named as `describeCharacter` says)
 *   L:C: invalid number literal '12ab'        (a number running into letters, or a bare `0x`)
 *
 * The value of an integer literal (and whether it fits in 64 bits) is the parser's business.
 */
export function tokenize(source: string, lexicon: Lexicon = CORE_LEXICON): Token[] {
  const tokens: Token[] = [];
  let pos = source.startsWith(BYTE_ORDER_MARK) ? 1 : 0;
  let line = 1;
  let column = 1;

  /** Moves past `count` characters that are not line ends (all within one UTF-16 unit). */
  const skip = (count: number): void => {
    pos += count;
    column += count;
  };

  while (pos < source.length) {
    const c = source[pos]!;
    if (c === '\n' || c === '\r') {
      // LF, CR, or CR LF: one line end each.
      pos += c === '\r' && source[pos + 1] === '\n' ? 2 : 1;
      line++;
      column = 1;
    } else if (c === ' ' || c === '\t') {
      skip(1);
    } else if (c === '/' && source[pos + 1] === '/') {
      // A comment runs to the line end; it may hold any character, each one column.
      while (pos < source.length && source[pos] !== '\n' && source[pos] !== '\r') {
        pos += source.codePointAt(pos)! > 0xffff ? 2 : 1;
        column++;
      }
    } else if (isDigit(c)) {
      // TODO: an integer literal. Take the whole run of letters and digits (isNameChar) so
      // that `12ab` is one bad literal, not `12` then `ab`; accept only all digits, or `0x`
      // (or `0X`) followed by hex digits, else throw a CompileError here: invalid number
      // literal 'TEXT'. Push { kind: 'int', text, line, column } and skip(text.length).
      todo('lexer.tokenize: integer literals');
    } else if (isNameStart(c)) {
      // TODO: a name. Take the run of name characters; if lexicon.keywords has it, the kind
      // is the word itself (a keyword), otherwise 'name'. Push the token and skip past it.
      todo('lexer.tokenize: names and keywords');
    } else {
      // TODO: the mark of lexicon.punctuation the source continues with at pos (the list is
      // longest first, so the first one that matches is the longest), or undefined if none does.
      const mark = todo('lexer.tokenize: punctuation') as string | undefined;
      if (mark === undefined) {
        const shown = describeCharacter(String.fromCodePoint(source.codePointAt(pos)!));
        throw new CompileError(line, column, `unexpected character ${shown}`);
      }
      tokens.push({ kind: mark, text: mark, line, column });
      skip(mark.length);
    }
  }
  tokens.push({ kind: 'eof', text: '', line, column });
  return tokens;
}
