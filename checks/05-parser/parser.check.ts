import * as assert from 'uvu/assert';
import { check, learnerCode } from '#harness/check.ts';
import {
  BINARY_OPS, LEVELS, below, isComparison, isLexicalError, levelOf, loadInvalidPrograms, reportErrorPlace, reportLines, reportTree, shape,
} from './support.ts';

const parser = await learnerCode(import('#ch05/parser.ts'));
const errors = await learnerCode(import('#ch05/errors.ts'));

/** `shape` of the parsed expression: `(a + (b * c))`. */
function grouped(source: string): string {
  return reportLines(`shape of parseExpr(${JSON.stringify(source)})`, [shape(parser.parseExpr(source))])[0]!;
}

/**
 * The CompileError message of parsing `source`, or a description of what happened instead.
 * With `reportAs`, the error's line:column is reported under that name (support.ts reportErrorPlace).
 */
/** Reports `message` under `name`, whole (for errors whose wording the check holds exactly); returns it. */
function exactly(name: string, message: string): string {
  return reportLines(name, [message])[0]!;
}

function errorOf(run: () => unknown, reportAs?: string): string {
  const said = (message: string) => (reportAs === undefined ? message : reportErrorPlace(reportAs, message));
  try {
    run();
  } catch (e) {
    if (e instanceof errors.CompileError) return said(e.message);
    if (e instanceof Error && (e.name === 'NotImplemented' || e.name === 'LearnerCodeLoadError')) throw e;
    return said(`a ${e instanceof Error ? e.name : typeof e} instead of a CompileError: ${e instanceof Error ? e.message : String(e)}`);
  }
  return said('no error at all');
}

check('parse: a function with parameters, types and a body', () => {
  const program = parser.parse('fn add(a, b: int): int {\n  return a + b;\n}\n\nfn main() {}');
  assert.equal(reportTree('parse of add and main', program), {
    kind: 'program',
    functions: [
      {
        kind: 'function',
        name: 'add',
        params: [
          { name: 'a', type: null },
          { name: 'b', type: { kind: 'type-name', name: 'int' } },
        ],
        returnType: { kind: 'type-name', name: 'int' },
        body: {
          kind: 'block',
          statements: [
            {
              kind: 'return',
              value: { kind: 'binary', op: '+', left: { kind: 'name', name: 'a' }, right: { kind: 'name', name: 'b' } },
            },
          ],
        },
      },
      { kind: 'function', name: 'main', params: [], returnType: null, body: { kind: 'block', statements: [] } },
    ],
  });
  assert.equal(reportTree('parse of an empty program', parser.parse('')), { kind: 'program', functions: [] }, 'an empty program has no functions');
}, { hints: [
  'parseProgram loops until eof; each function is `fn NAME ( params ) [: type] block`.',
  'A missing type is `null`, not a made-up `int`: the compiler decides what an absent type means.',
] });

check('parse: every kind of statement', () => {
  const source = [
    'fn main() {',
    '  let x = 1;',
    '  let ok: bool = true;',
    '  x = x * 2;',
    '  if ok { print(x); } else if x > 1 { f(x); } else { }',
    '  while x < 10 { x = x + 1; }',
    '  { let inner = 2; }',
    '  return x;',
    '}',
  ].join('\n');
  const body = parser.parse(source).functions[0]!.body.statements;
  const name = (n: string) => ({ kind: 'name', name: n });
  const int = (v: number) => ({ kind: 'int', value: `${v}n` });
  assert.equal(reportTree('every kind of statement', body), [
    { kind: 'let', name: 'x', type: null, init: int(1) },
    { kind: 'let', name: 'ok', type: { kind: 'type-name', name: 'bool' }, init: { kind: 'bool', value: true } },
    { kind: 'assign', target: name('x'), value: { kind: 'binary', op: '*', left: name('x'), right: int(2) } },
    {
      kind: 'if',
      cond: name('ok'),
      then: { kind: 'block', statements: [{ kind: 'print', value: name('x') }] },
      otherwise: {
        kind: 'block',
        statements: [
          {
            kind: 'if',
            cond: { kind: 'binary', op: '>', left: name('x'), right: int(1) },
            then: { kind: 'block', statements: [{ kind: 'expr', expr: { kind: 'call', callee: 'f', args: [name('x')] } }] },
            otherwise: { kind: 'block', statements: [] },
          },
        ],
      },
    },
    {
      kind: 'while',
      cond: { kind: 'binary', op: '<', left: name('x'), right: int(10) },
      body: { kind: 'block', statements: [{ kind: 'assign', target: name('x'), value: { kind: 'binary', op: '+', left: name('x'), right: int(1) } }] },
    },
    { kind: 'block', statements: [{ kind: 'let', name: 'inner', type: null, init: int(2) }] },
    { kind: 'return', value: name('x') },
  ]);
}, { hints: [
  'parseStatement looks at the first token: `let`, `if`, `while`, `return`, `print`, `{`, or else an expression.',
  'An assignment starts like an expression statement: parse the expression, then look for `=`.',
  '`else if …` becomes an else block holding just the inner if statement.',
] });

check('parse: nodes carry the positions of their tokens', () => {
  const program = parser.parse('fn main() {\n  let total = a\n    + f(b, -c);\n  total = 1;\n}');
  const fn = program.functions[0]!;
  assert.equal(reportTree('fn.pos', fn.pos), { line: 1, column: 4 }, 'a function is at its name');
  assert.equal(reportTree('fn.body.pos', fn.body.pos), { line: 1, column: 11 }, 'a block is at its `{`');
  assert.equal(reportTree('fn.body.end', fn.body.end), { line: 5, column: 1 }, 'a block ends at its `}`');
  const [letStmt, assign] = fn.body.statements;
  assert.equal(reportTree('letStmt!.pos', letStmt!.pos), { line: 2, column: 3 }, 'a let statement is at `let`');
  if (letStmt!.kind !== 'let' || letStmt!.init.kind !== 'binary') throw new Error('expected `let total = a + f(b, -c)`');
  const sum = letStmt!.init;
  assert.equal(reportTree('sum.pos', sum.pos), { line: 3, column: 5 }, 'a binary expression is at its operator');
  assert.equal(reportTree('sum.left.pos', sum.left.pos), { line: 2, column: 15 }, 'a name is at its token');
  if (sum.right.kind !== 'call') throw new Error('expected the call f(b, -c) right of +');
  assert.equal(reportTree('sum.right.pos', sum.right.pos), { line: 3, column: 7 }, 'a call is at the function name');
  assert.equal(reportTree('sum.right.args[1]!.pos', sum.right.args[1]!.pos), { line: 3, column: 12 }, 'a unary expression is at its operator');
  assert.equal(reportTree('assign!.pos', assign!.pos), { line: 4, column: 9 }, 'an assignment is at its `=`');

  const source = [
    'fn main() {',
    '  while ok { print(1); }',
    '  if a { } else if b { return 2; } else { f(x); }',
    '  g(y) + 1;',
    '}',
  ].join('\n');
  const [loop, choice, call] = parser.parse(source).functions[0]!.body.statements;
  if (loop!.kind !== 'while' || choice!.kind !== 'if' || call!.kind !== 'expr') throw new Error('expected while, if and an expression statement');
  assert.equal(reportTree('loop!.pos', loop!.pos), { line: 2, column: 3 }, 'a while statement is at `while`');
  assert.equal(reportTree('loop!.body.statements[0]!.pos', loop!.body.statements[0]!.pos), { line: 2, column: 14 }, 'a print statement is at `print`');
  assert.equal(reportTree('choice!.pos', choice!.pos), { line: 3, column: 3 }, 'an if statement is at `if`');
  const elseIf = choice!.otherwise!;
  assert.equal(reportTree('elseIf.pos', elseIf.pos), { line: 3, column: 17 }, 'the block made for an else-if is at the inner `if`');
  assert.equal(reportTree('elseIf.end', elseIf.end), { line: 3, column: 49 }, '… and ends where the inner if statement ends (its last `}`)');
  const inner = elseIf.statements[0]!;
  if (inner.kind !== 'if') throw new Error('expected the else-if block to hold an if statement');
  assert.equal(reportTree('inner.then.statements[0]!.pos', inner.then.statements[0]!.pos), { line: 3, column: 24 }, 'a return statement is at `return`');
  assert.equal(reportTree('inner.otherwise!.statements[0]!.pos', inner.otherwise!.statements[0]!.pos), { line: 3, column: 43 }, 'an expression statement is at its expression (here a call: its name)');
  assert.equal(reportTree('call!.pos', call!.pos), { line: 4, column: 8 }, 'an expression statement is at its expression (here a sum: its `+`)');
}, { hints: ['Take each node\'s position from the token that names it: the operator, keyword, name or literal (see ast.ts).'] });

check('precedence: every pair of operators at different levels', () => {
  const wrong: string[] = [];
  for (const op1 of BINARY_OPS) {
    for (const op2 of BINARY_OPS) {
      if (levelOf(op1) === levelOf(op2)) continue;
      const source = `a ${op1} b ${op2} c`;
      const expected = levelOf(op1) > levelOf(op2) ? `((a ${op1} b) ${op2} c)` : `(a ${op1} (b ${op2} c))`;
      const actual = grouped(source);
      if (actual !== expected) wrong.push(`  ${source.padEnd(12)} expected ${expected}, got ${actual}`);
    }
  }
  assert.ok(wrong.length === 0, `${wrong.length} expressions grouped wrongly:\n${wrong.slice(0, 12).join('\n')}`);
}, { hints: [
  `Levels, loosest first: ${LEVELS.map((ops) => ops.join(' ')).join('  |  ')}.`,
  'An operator with left binding power 2L parses its right operand with minimum power 2L + 1.',
  'The loop stops when the next operator\'s left binding power is below the minimum it was called with.',
] });

check('associativity: binary operators group to the left', () => {
  const wrong: string[] = [];
  for (const op1 of BINARY_OPS) {
    for (const op2 of BINARY_OPS) {
      if (levelOf(op1) !== levelOf(op2) || isComparison(op1)) continue;
      const source = `a ${op1} b ${op2} c`;
      const expected = `((a ${op1} b) ${op2} c)`;
      const actual = grouped(source);
      if (actual !== expected) wrong.push(`  ${source.padEnd(12)} expected ${expected}, got ${actual}`);
    }
  }
  assert.ok(wrong.length === 0, `${wrong.length} expressions grouped wrongly:\n${wrong.slice(0, 12).join('\n')}`);
  assert.is(grouped('a - b - c - d'), '(((a - b) - c) - d)');
  assert.is(grouped('a || b && c || d'), '((a || (b && c)) || d)');
}, { hints: ['Left-associative: the right operand is parsed with a minimum power one above the operator\'s own, so an equal operator stops it.'] });

check('comparisons do not chain without parentheses', () => {
  assert.is(exactly('a < b < c', errorOf(() => parser.parseExpr('a < b < c'))), `1:7: comparison '<' cannot follow '<' without parentheses`);
  assert.is(exactly('a == b != c', errorOf(() => parser.parseExpr('a == b != c'))), `1:8: comparison '!=' cannot follow '==' without parentheses`);
  assert.is(exactly('a >= b + 1 <= c', errorOf(() => parser.parseExpr('a >= b + 1 <= c'))), `1:12: comparison '<=' cannot follow '>=' without parentheses`);
  assert.is(grouped('(a < b) == (c < d)'), '((a < b) == (c < d))');
  assert.is(grouped('a < b == c > d'), '((a < b) == (c > d))', 'different levels may meet');
  assert.is(grouped('a == b && c != d'), '((a == b) && (c != d))');
  assert.is(exactly('a + b < c < d', errorOf(() => parser.parseExpr('a + b < c < d'))), `1:11: comparison '<' cannot follow '<' without parentheses`,
    'the operator to compare with is the last one combined at this level, not the first of the expression');
  assert.is(exactly('x == y == z', errorOf(() => parser.parseExpr('x == y == z'))), `1:8: comparison '==' cannot follow '==' without parentheses`);
  assert.is(exactly('a > b >= c', errorOf(() => parser.parseExpr('a > b >= c'))), `1:7: comparison '>=' cannot follow '>' without parentheses`);
  assert.is(grouped('(a < b) < c'), '((a < b) < c)', 'parentheses make a chain legal');
  assert.is(grouped('a < (b < c)'), '(a < (b < c))');
  assert.is(grouped('a < b && c < d && e < f'), '(((a < b) && (c < d)) && (e < f))', 'comparisons under && are separate chains');
  assert.is(grouped('f(a < b, c < d)'), 'f((a < b), (c < d))', 'arguments are separate chains');
}, { hints: [
  'Remember the last operator the Pratt loop combined; if the next one is a comparison at the same level, fail.',
  'The error is at the second operator.',
] });

check('prefix operators and calls bind tighter than binary operators', () => {
  assert.is(grouped('-a * b'), '((-a) * b)');
  assert.is(grouped('!a && b'), '((!a) && b)');
  assert.is(grouped('~a & b'), '((~a) & b)');
  assert.is(grouped('- -a'), '(-(-a))');
  assert.is(grouped('!-~x'), '(!(-(~x)))');
  assert.is(grouped('-f(x) + g()'), '((-f(x)) + g())');
  assert.is(grouped('f(a + b, g(c), -d)'), 'f((a + b), g(c), (-d))');
  assert.is(grouped('2 * (3 + 4)'), '(2 * (3 + 4))');
  assert.is(grouped('((x))'), 'x', 'parentheses leave no node behind');
}, { hints: ['A prefix operator parses its operand with a minimum power above every binary operator\'s.'] });

check('integer literals: decimal, hex, and INT64_MIN', () => {
  const value = (source: string): unknown => reportTree(`parseExpr(${JSON.stringify(source)})`, parser.parseExpr(source));
  assert.equal(value('0'), { kind: 'int', value: '0n' });
  assert.equal(value('9223372036854775807'), { kind: 'int', value: '9223372036854775807n' });
  assert.equal(value('0xff'), { kind: 'int', value: '255n' });
  assert.equal(value('0xffffffffffffffff'), { kind: 'int', value: '-1n' }, 'hex literals are 64-bit patterns');
  assert.equal(value('-9223372036854775808'), {
    kind: 'unary', op: '-', operand: { kind: 'int', value: '-9223372036854775808n' },
  }, '2^63 right after a minus is allowed; as 64 bits it is INT64_MIN');
  assert.is(exactly('9223372036854775808', errorOf(() => parser.parseExpr('9223372036854775808'))), '1:1: integer literal 9223372036854775808 does not fit in 64 bits');
  assert.is(exactly('1 + 99999999999999999999', errorOf(() => parser.parseExpr('1 + 99999999999999999999'))), '1:5: integer literal 99999999999999999999 does not fit in 64 bits');
  assert.is(exactly('-9223372036854775809', errorOf(() => parser.parseExpr('-9223372036854775809'))), '1:2: integer literal 9223372036854775809 does not fit in 64 bits');
  assert.is(exactly('0x10000000000000000', errorOf(() => parser.parseExpr('0x10000000000000000'))), '1:1: integer literal 0x10000000000000000 has more than 16 hex digits');
  assert.is(exactly('0x00000000000000001', errorOf(() => parser.parseExpr('0x00000000000000001'))), '1:1: integer literal 0x00000000000000001 has more than 16 hex digits',
    'leading zeros count: a hex literal has at most 16 digits whatever its value');
  assert.equal(value('0x0000000000000001'), { kind: 'int', value: '1n' }, '16 digits with leading zeros are fine');
  assert.equal(value('0X8000000000000000'), { kind: 'int', value: '-9223372036854775808n' }, '0X works like 0x');
  assert.equal(value('007'), { kind: 'int', value: '7n' }, 'a decimal literal may have leading zeros');
  assert.equal(value('- 9223372036854775808'), {
    kind: 'unary', op: '-', operand: { kind: 'int', value: '-9223372036854775808n' },
  }, 'the minus and the literal are two tokens: a space between them changes nothing');
  assert.is(exactly('1 - 9223372036854775808', errorOf(() => parser.parseExpr('1 - 9223372036854775808'))), '1:5: integer literal 9223372036854775808 does not fit in 64 bits',
    'only a unary minus allows 2^63, not a binary one');
  assert.is(exactly('!9223372036854775808', errorOf(() => parser.parseExpr('!9223372036854775808'))), '1:2: integer literal 9223372036854775808 does not fit in 64 bits');
  assert.is(exactly('~9223372036854775808', errorOf(() => parser.parseExpr('~9223372036854775808'))), '1:2: integer literal 9223372036854775808 does not fit in 64 bits');
  assert.is(exactly('-(9223372036854775808)', errorOf(() => parser.parseExpr('-(9223372036854775808)'))), '1:3: integer literal 9223372036854775808 does not fit in 64 bits');
  assert.is(grouped('-9223372036854775808 * 2'), '((--9223372036854775808) * 2)', 'the minus takes the literal alone, then the loop goes on');
  assert.is(grouped('-1 - 2'), '((-1) - 2)');
  const min = parser.parseExpr('  -9223372036854775808');
  if (min.kind !== 'unary') throw new Error('expected a unary minus over a literal');
  assert.equal(reportTree('where -9223372036854775808 and its literal are', [min.pos, min.operand.pos]), [{ line: 1, column: 3 }, { line: 1, column: 4 }], 'the minus is at `-`, the literal at its own token');
  assert.is(grouped('--9223372036854775808'), '(-(--9223372036854775808))');
}, { hints: [
  'BigInt(text) reads both decimal and 0x… text; BigInt.asIntN(64, v) reinterprets 64 bits as signed.',
  'In the prefix rule for `-`, peek: if an int literal follows directly, it may be 2^63.',
] });

check('assignment: only a plain name may be assigned to', () => {
  const statement = (source: string) => reportTree(`the statement ${source}`, parser.parse(`fn main() { ${source} }`).functions[0]!.body.statements[0]);
  const error = (source: string) => errorOf(() => parser.parse(`fn main() { ${source} }`), `the statement ${source} fails at`);
  assert.equal(statement('x = (y);'), { kind: 'assign', target: { kind: 'name', name: 'x' }, value: { kind: 'name', name: 'y' } });
  assert.equal(statement('(x);'), { kind: 'expr', expr: { kind: 'name', name: 'x' } }, 'a parenthesized name is a fine expression statement');
  assert.is(error('(x) = 2;'), '1:17: cannot assign to a parenthesized expression');
  assert.is(error('((x)) = 2;'), '1:19: cannot assign to a parenthesized expression');
  assert.is(error('f(x) = 1;'), '1:18: cannot assign to this expression');
  assert.is(error('-x = 1;'), '1:16: cannot assign to this expression');
  assert.is(error('x + y = 1;'), '1:19: cannot assign to this expression');
  assert.is(error('1 = 1;'), '1:15: cannot assign to this expression');
  assert.is(error('x = y = 1;'), `1:19: expected ';' after statement, found '='`, 'an assignment is a statement, not an expression');
}, { hints: [
  'Parentheses leave no node, so the group parselet marks what it returns with parser.parenthesized(…); the assignment asks parser.isParenthesized first.',
  'Which expressions may be assigned is the grammar\'s call: this.grammar.assignable(expr).',
] });

check('nesting: more than 256 open expressions or blocks is an error, at the token where it happens', () => {
  const parens = (n: number) => `fn main() { print(${'('.repeat(n)}1${')'.repeat(n)}); }`;
  const blocks = (n: number) => `fn main() ${'{'.repeat(n)}${'}'.repeat(n)}`;
  const elseIfs = (n: number) => `fn main() { if a {} ${'else if a {} '.repeat(n)}}`;
  const minuses = (n: number) => `fn main() { print(${'-'.repeat(n)}x); }`;
  assert.is(exactly('parser.parse(parens(254))', errorOf(() => parser.parse(parens(254)))), 'no error at all', 'the body, print\'s expression and 254 groups are 256 levels');
  assert.is(exactly('parser.parse(parens(255))', errorOf(() => parser.parse(parens(255)))), '1:274: nested too deeply');
  assert.is(exactly('parser.parse(blocks(256))', errorOf(() => parser.parse(blocks(256)))), 'no error at all', 'the body and 255 blocks in it');
  assert.is(exactly('parser.parse(blocks(257))', errorOf(() => parser.parse(blocks(257)))), '1:267: nested too deeply');
  assert.is(exactly('parser.parse(minuses(254))', errorOf(() => parser.parse(minuses(254)))), 'no error at all');
  assert.is(exactly('parser.parse(minuses(255))', errorOf(() => parser.parse(minuses(255)))), '1:274: nested too deeply');
  assert.is(exactly('parser.parse(elseIfs(254))', errorOf(() => parser.parse(elseIfs(254)))), 'no error at all', 'each else-if is a level: it nests the next if inside an else block');
  assert.is(exactly('parser.parse(elseIfs(300))', errorOf(() => parser.parse(elseIfs(300)))), '1:3331: nested too deeply');
  assert.is(exactly('parser.parse(blocks(5000))', errorOf(() => parser.parse(blocks(5000)))), '1:267: nested too deeply');
  // Levels are given back: long sequences are not deep.
  const statements = 'x = x + 1 * 2;\n'.repeat(2000);
  assert.is(exactly('2000 statements and 400 sibling blocks', errorOf(() => parser.parse(`fn main() {\n${statements}}\nfn f() { ${'{}'.repeat(400)} }`))), 'no error at all',
    '2000 statements and 400 sibling blocks are not nested: every enter() needs its leave()');
  assert.is(exactly('a chain of 3000 operators', errorOf(() => parser.parseExpr(Array.from({ length: 3000 }, (_, i) => `a${i}`).join(' + ')))), 'no error at all',
    'a chain of 3000 operators is 2 levels deep, not 3000');
}, { hints: [
  'parseExpression and parseBlock each count one level (enter() first, leave() before returning); an else-if counts one more.',
  'The error comes from enter(), at the token the parser is looking at when the 257th level opens.',
] });

const invalid = loadInvalidPrograms();

function checkInvalid(programs: typeof invalid): void {
  const wrong: string[] = [];
  for (const program of programs) {
    const actual = errorOf(() => parser.parse(program.source), `invalid/${program.file} fails at`);
    if (actual !== program.expected) {
      wrong.push(`  invalid/${program.file}\n    expected: ${program.expected}\n    actual:   ${actual}`);
    }
  }
  assert.ok(wrong.length === 0, `${wrong.length} of ${programs.length} programs:\n${wrong.join('\n')}`);
}

check('invalid programs: lexical errors at the right line:column', () => {
  checkInvalid(invalid.filter((p) => isLexicalError(p.expected)));
}, { hints: ['The programs are in checks/05-parser/invalid; the first line of each names the error.'] });

check('invalid programs: syntax errors say what was expected and what was found', () => {
  checkInvalid(invalid.filter((p) => !isLexicalError(p.expected)));
}, { hints: [
  'The programs are in checks/05-parser/invalid; the first line of each names the error, and parser.ts lists every message.',
  'The position is the token found, not the end of the token before it.',
] });

check('invalid programs: the same errors at the same positions with CR LF or CR line ends, and after a byte-order mark', () => {
  const wrong: string[] = [];
  const variants: [string, (source: string) => string][] = [
    ['CR LF', (source) => source.replace(/\n/g, '\r\n')],
    ['CR', (source) => source.replace(/\n/g, '\r')],
    ['a byte-order mark', (source) => `\uFEFF${source}`],
  ];
  for (const program of invalid) {
    for (const [variant, change] of variants) {
      const actual = errorOf(() => parser.parse(change(program.source)), `invalid/${program.file} with ${variant} fails at`);
      if (actual !== program.expected) wrong.push(`  invalid/${program.file} with ${variant}\n    expected: ${program.expected}\n    actual:   ${actual}`);
    }
  }
  assert.ok(wrong.length === 0, `${wrong.length} of ${invalid.length * variants.length}:\n${wrong.slice(0, 12).join('\n')}`);
}, { hints: ['Line ends and the byte-order mark are the lexer\'s business: see the language reference, Lexical structure.'] });

check('parseExpr: one expression and nothing after it', () => {
  assert.is(errorOf(() => parser.parseExpr('x y'), `parseExpr(${JSON.stringify('x y')}) fails at`), `1:3: expected end of input, found 'y'`);
  assert.is(errorOf(() => parser.parseExpr('f(1))'), `parseExpr(${JSON.stringify('f(1))')}) fails at`), `1:5: expected end of input, found ')'`);
  assert.is(errorOf(() => parser.parseExpr(''), `parseExpr(${JSON.stringify('')}) fails at`), '1:1: expected expression, found end of input');
  assert.is(errorOf(() => parser.parseExpr('1 +'), `parseExpr(${JSON.stringify('1 +')}) fails at`), '1:4: expected expression, found end of input');
}, { hints: ['parseExpr (given) parses one expression and then expectEnd(); the Pratt loop must stop at a token with no infix rule, not fail.'] });

check('malformed input gives a CompileError, never a crash', (t) => {
  const pieces = ['fn', 'main', '(', ')', '{', '}', 'let', 'x', '=', '1', ';', 'if', 'else', 'while', 'return', 'print',
    '+', '-', '*', '<', '==', '&&', '!', ',', ':', 'int', 'true', '0x', '9999999999999999999999', '[', '.', '$'];
  const endings: string[] = [];
  for (let i = 0; i < 500; i++) {
    const words = Array.from({ length: 1 + below(t.random, 25) }, () => pieces[below(t.random, pieces.length)]!);
    const source = words.join(below(t.random, 2) === 0 ? ' ' : '\n');
    try {
      parser.parse(source);
      endings.push('parsed');
    } catch (e) {
      if (e instanceof errors.CompileError) {
        endings.push('a CompileError');
        continue;
      }
      if (e instanceof Error && (e.name === 'NotImplemented' || e.name === 'LearnerCodeLoadError')) throw e;
      assert.unreachable(`parse(${JSON.stringify(source)}) threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}, not a CompileError`);
    }
  }
  reportLines('how 500 random sources end', endings);
  const deep = `fn main() { print(${'('.repeat(5000)}1${')'.repeat(5000)}); }`;
  const deepError = errorOf(() => parser.parse(deep), '5000 nested parentheses fail at');
  assert.ok(/^\d+:\d+: /.test(deepError), `5000 nested parentheses: expected a CompileError (nested too deeply), got ${deepError}`);
  const unary = `fn main() { print(${'-'.repeat(5000)}1); }`;
  const unaryError = errorOf(() => parser.parse(unary), '5000 minus signs fail at');
  assert.ok(/^\d+:\d+: /.test(unaryError), `5000 minus signs: expected a CompileError (nested too deeply), got ${unaryError}`);
}, { timeoutMs: 10000, hints: [
  'Every path that finds something unexpected must throw CompileError; check for eof before reading past the end.',
  'Deep nesting overflows the JavaScript stack (a RangeError): count the depth in parseExpression and parseBlock and fail past 256.',
] });
