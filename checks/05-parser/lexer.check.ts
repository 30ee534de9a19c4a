import * as assert from 'uvu/assert';
import { check, learnerCode } from '#harness/check.ts';

const lexer = await learnerCode(import('#ch05/lexer.ts'));
const errors = await learnerCode(import('#ch05/errors.ts'));

/** Tokens as `kind text @line:column`, one string each, for readable diffs. */
function lex(source: string): string[] {
  return lexer.tokenize(source).map((t) => `${t.kind} ${JSON.stringify(t.text)} @${t.line}:${t.column}`);
}

/** The message of the CompileError that tokenizing `source` throws. */
function lexError(source: string): string {
  try {
    lexer.tokenize(source);
  } catch (e) {
    if (e instanceof errors.CompileError) return e.message;
    throw e;
  }
  assert.unreachable(`tokenize(${JSON.stringify(source)}) should throw a CompileError, but it returned tokens`);
  return '';
}

check('tokenize: every operator and punctuation mark, longest match first', () => {
  const source = '>>> >> > >= = == ! != < <= << & && | || ^ ~ + - * / % ( ) { } [ ] , ; : .';
  const kinds = lexer.tokenize(source).map((t) => t.kind);
  assert.equal(kinds, [
    '>>>', '>>', '>', '>=', '=', '==', '!', '!=', '<', '<=', '<<', '&', '&&', '|', '||', '^', '~',
    '+', '-', '*', '/', '%', '(', ')', '{', '}', '[', ']', ',', ';', ':', '.', 'eof',
  ]);
  assert.equal(
    lexer.tokenize('a>>>=b').map((t) => t.kind),
    ['name', '>>>', '=', 'name', 'eof'],
    'no spaces needed: `a>>>=b` is a, >>>, =, b',
  );
  assert.equal(lexer.tokenize('<<=').map((t) => t.kind), ['<<', '=', 'eof'], '`<<=` is << then =');
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
  const kinds = lexer.tokenize('iffy fnord lets printer truely whiles if fn let print true false while else return try catch throw new struct').map((t) => t.kind);
  assert.equal(kinds, [
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
