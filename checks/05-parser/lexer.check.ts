import * as assert from 'uvu/assert';
import { check, learnerCode } from '#harness/check.ts';
import { reportErrorPlace, reportLines } from './support.ts';

const lexer = await learnerCode(import('#ch05/lexer.ts'));
const errors = await learnerCode(import('#ch05/errors.ts'));

/** Tokens as `kind text @line:column`, one string each, for readable diffs. */
function lex(source: string): string[] {
  return reportLines(`tokenize(${JSON.stringify(source)})`, lexer.tokenize(source).map((t) => `${t.kind} ${JSON.stringify(t.text)} @${t.line}:${t.column}`));
}

/** The kinds of the tokens of `source`, reported under the source. */
function kinds(source: string, lexicon?: Parameters<typeof lexer.tokenize>[1]): string[] {
  const found = (lexicon ? lexer.tokenize(source, lexicon) : lexer.tokenize(source)).map((t) => t.kind);
  return reportLines(`token kinds of ${JSON.stringify(source)}${lexicon ? ' with a lexicon of its own' : ''}`, found);
}

/** The message of the CompileError that tokenizing `source` throws. */
function lexError(source: string): string {
  try {
    lexer.tokenize(source);
  } catch (e) {
    if (e instanceof errors.CompileError) return reportErrorPlace(`tokenize(${JSON.stringify(source)}) fails at`, e.message);
    throw e;
  }
  assert.unreachable(`tokenize(${JSON.stringify(source)}) should throw a CompileError, but it returned tokens`);
  return '';
}

check('tokenize: every operator and punctuation mark, longest match first', () => {
  const source = '>>> >> > >= = == ! != < <= << & && | || ^ ~ + - * / % ( ) { } [ ] , ; : .';
  const found = kinds(source);
  assert.equal(found, [
    '>>>', '>>', '>', '>=', '=', '==', '!', '!=', '<', '<=', '<<', '&', '&&', '|', '||', '^', '~',
    '+', '-', '*', '/', '%', '(', ')', '{', '}', '[', ']', ',', ';', ':', '.', 'eof',
  ]);
  assert.equal(
    kinds('a>>>=b'),
    ['name', '>>>', '=', 'name', 'eof'],
    'no spaces needed: `a>>>=b` is a, >>>, =, b',
  );
  assert.equal(kinds('<<='), ['<<', '=', 'eof'], '`<<=` is << then =');
}, { hints: [
  'Try the longest marks first: `>>>` before `>>` before `>`, and `==` before `=`.',
  'PUNCTUATION in lexer.ts is already ordered longest first; take the first one the source starts with at pos.',
] });

check('tokenize: keywords, names, numbers, comments, and line:column of each token', () => {
  const source = 'fn main() {\n  let x1 = 0x1F; // a comment, with ( and 99\n\treturn _y + 42;\n}';
  assert.equal(lex(source), [
    'fn "fn" @1:1', 'name "main" @1:4', '( "(" @1:8', ') ")" @1:9', '{ "{" @1:11',
    'let "let" @2:3', 'name "x1" @2:7', '= "=" @2:10', 'int "0x1F" @2:12', '; ";" @2:16',
    'return "return" @3:2', 'name "_y" @3:9', '+ "+" @3:12', 'int "42" @3:14', '; ";" @3:16',
    '} "}" @4:1', 'eof "" @4:2',
  ]);
}, { hints: [
  'Columns count from 1 and a tab is one column; a newline moves to the next line, column 1.',
  'A `//` comment runs to the end of its line and produces no token.',
  'The eof token sits just after the last character.',
] });

check('tokenize: words that start like keywords are names; reserved words are keywords', () => {
  const found = kinds('iffy fnord lets printer truely whiles if fn let print true false while else return try catch throw new struct');
  assert.equal(found, [
    'name', 'name', 'name', 'name', 'name', 'name',
    'if', 'fn', 'let', 'print', 'true', 'false', 'while', 'else', 'return',
    'try', 'catch', 'throw', 'new', 'struct', 'eof',
  ]);
}, { hints: ['Read the whole word first, then look it up among KEYWORDS and RESERVED.'] });

check('tokenize: errors name the character or literal and its line:column', () => {
  assert.is(lexError('fn main() {\n  let a = 1 @ 2;\n}'), `2:13: unexpected character '@'`);
  assert.is(lexError('let s = "hi";'), `1:9: unexpected character '"'`);
  assert.is(lexError('\n\n   12ab'), `3:4: invalid number literal '12ab'`);
  assert.is(lexError('0x + 1'), `1:1: invalid number literal '0x'`);
  assert.is(lexError('1 + 0xfg'), `1:5: invalid number literal '0xfg'`);
}, { hints: [
  'A digit starts a number: take the whole run of letters and digits, then check it is all digits, or 0x and hex digits.',
  'The error is at the first character of the bad token, in the message format `L:C: …` that CompileError builds.',
] });

check('tokenize: LF, CR and CR LF each end one line, in code and in comments', () => {
  const positions = (source: string) => reportLines(`positions of tokenize(${JSON.stringify(source)})`, lexer.tokenize(source).map((t) => `${t.kind}@${t.line}:${t.column}`));
  const expected = ['name@1:1', 'name@2:3', '+@2:5', 'name@4:1', 'eof@4:2'];
  assert.equal(positions('a\n  b + // note\n\nc'), expected, 'LF line ends');
  assert.equal(positions('a\r\n  b + // note\r\n\r\nc'), expected, 'CR LF is one line end, not two');
  assert.equal(positions('a\r  b + // note\r\rc'), expected, 'a CR alone ends a line too (and ends a comment)');
  assert.equal(positions('a\r\n  b + // note\r\rc'), expected, 'line ends may be mixed');
  assert.equal(positions('x\n\r\ny'), ['name@1:1', 'name@3:1', 'eof@3:2'], 'LF then CR LF: two line ends');
  assert.equal(positions('x\n\ry'), ['name@1:1', 'name@3:1', 'eof@3:2'], 'LF then CR: two line ends');
  assert.equal(positions('x\r\n'), ['name@1:1', 'eof@2:1'], 'the end of input after a final line end is at the start of the next line');
  assert.is(lexError('a\r\nb\r\n  $'), `3:3: unexpected character '$'`);
  assert.is(lexError('a\rb\r  12x'), `3:3: invalid number literal '12x'`);
}, { hints: [
  'A line ends at "\\n", at "\\r", or at "\\r\\n" taken together: after any of them, line + 1 and column 1.',
  'A `//` comment stops at "\\r" as well as at "\\n".',
] });

check('tokenize: a leading byte-order mark is skipped; columns count characters, not bytes or UTF-16 units', () => {
  assert.equal(lex('\uFEFFfn main'), ['fn "fn" @1:1', 'name "main" @1:4', 'eof "" @1:8'], 'a BOM at the start takes no column');
  assert.is(lexError('a \uFEFF'), `1:3: unexpected character U+FEFF`, 'anywhere else a BOM is an unexpected character');
  assert.equal(lex('x // déjà vu'), ['name "x" @1:1', 'eof "" @1:13'], 'é and à are one column each');
  assert.equal(lex('x // 😀😀'), ['name "x" @1:1', 'eof "" @1:8'], 'an emoji (two UTF-16 units, four bytes) is one column');
  assert.equal(lex('// 😀\ny'), ['name "y" @2:1', 'eof "" @2:2'], 'a comment of any characters ends at its line end');
}, { hints: [
  'JavaScript strings are UTF-16: a character above U+FFFF (an emoji) is two string units but one column.',
  'source.codePointAt(pos) tells whether the character at pos takes two units (above 0xffff).',
] });

check('tokenize: characters outside the language are named in errors, never echoed raw', () => {
  assert.is(lexError('a é'), `1:3: unexpected character 'é' (U+00E9)`);
  assert.is(lexError('caf\u00e9'), `1:4: unexpected character 'é' (U+00E9)`, 'a name stops at a non-ASCII letter');
  assert.is(lexError('x 😀 y'), `1:3: unexpected character '😀' (U+1F600)`, 'a character beyond U+FFFF is named whole');
  assert.is(lexError('x\u0000'), `1:2: unexpected character U+0000`);
  assert.is(lexError('\u001b[31m'), `1:1: unexpected character U+001B`);
  assert.is(lexError('a\u007f'), `1:2: unexpected character U+007F`);
  assert.is(lexError('a\u00a0= 1'), `1:2: unexpected character U+00A0`, 'a non-breaking space is not a space');
  assert.is(lexError('a\u000b'), `1:2: unexpected character U+000B`, 'a vertical tab is not whitespace in Jot');
}, { hints: [
  'Names and numbers are ASCII only: isNameStart and isNameChar say which characters they take.',
  'describeCharacter in lexer.ts names a character the way the language reference says.',
] });

check('tokenize: integer literal forms', () => {
  const ints = (source: string) => reportLines(`texts of tokenize(${JSON.stringify(source)})`, lexer.tokenize(source).map((t) => `${t.kind} ${t.text}`));
  assert.equal(ints('0 007 0x1F 0XfF 0xABCdef'), ['int 0', 'int 007', 'int 0x1F', 'int 0XfF', 'int 0xABCdef', 'eof ']);
  assert.equal(ints('1+2'), ['int 1', '+ +', 'int 2', 'eof '], 'a number stops at punctuation');
  assert.is(lexError('1_000'), `1:1: invalid number literal '1_000'`);
  assert.is(lexError('x = 0b101'), `1:5: invalid number literal '0b101'`);
  assert.is(lexError('0x'), `1:1: invalid number literal '0x'`);
  assert.is(lexError('0xx1'), `1:1: invalid number literal '0xx1'`);
  assert.is(lexError('12x3'), `1:1: invalid number literal '12x3'`);
}, { hints: [
  'A number is all digits, or 0x / 0X and at least one hex digit (either case). Take the whole run of letters, digits and _ before you judge it.',
] });

check('tokenize: keywords and marks come from the lexicon it is given', () => {
  const lexicon = { keywords: new Set(['fn', 'zap']), punctuation: ['<-', '(', ')', '<', '-'] };
  assert.equal(
    kinds('zap while <- < - fn', lexicon),
    ['zap', 'name', '<-', '<', '-', 'fn', 'eof'],
    'with a lexicon of its own, `zap` is a keyword, `while` a name, and `<-` one mark',
  );
  assert.is(
    reportLines('a + b with a lexicon of its own', [(() => {
      try {
        lexer.tokenize('a + b', lexicon);
      } catch (e) {
        if (e instanceof errors.CompileError) return e.message;
        throw e;
      }
      return 'no error';
    })()])[0],
    `1:3: unexpected character '+'`,
    'a mark the lexicon does not list is unexpected',
  );
}, { hints: ['Look words up in lexicon.keywords and marks in lexicon.punctuation, not in the KEYWORDS and PUNCTUATION constants.'] });
