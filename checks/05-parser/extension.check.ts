import * as assert from 'uvu/assert';
import { check, learnerCode, thrownBy } from '#harness/check.ts';
import type { Block, Expr, Pos, Stmt, TypeNode } from '#ch05/ast.ts';
import type { Parser } from '#ch05/parser.ts';
import type { Token } from '#ch05/lexer.ts';
import { reportLines, reportTree, strip } from './support.ts';

// Syntax shaped like a later chapter's growth, added from outside chapter 05 the way such a
// chapter adds it: node kinds by declaration merging on '#ch05/ast.ts', rules through
// extendGrammar, printing through a PrintExtension. The kinds are named for this check alone.
//
// The statement kind is merged into `StmtKinds` for real (in both tsconfig.json, where
// '#ch05/ast.ts' is the scaffold's file, and tsconfig.solutions.json, where it is the
// reference's): `RepeatIsAStmt` below fails to compile if the merge does not reach `Stmt`.
// The expression kind is built as a plain object and cast, so that this file does not add
// an expression kind to every switch of the later chapters' type world.
interface RepeatStmt { readonly kind: 'check-repeat'; readonly count: Expr; readonly body: Block; readonly pos: Pos }
interface ChooseExpr { readonly kind: 'check-choose'; readonly cond: Expr; readonly then: Expr; readonly otherwise: Expr; readonly pos: Pos }

declare module '#ch05/ast.ts' {
  interface StmtKinds { 'check-repeat': RepeatStmt }
}

type RepeatIsAStmt = RepeatStmt extends Stmt ? Extract<Stmt, { kind: 'check-repeat' }> : never;
const repeatIsAStmt: RepeatIsAStmt['kind'] = 'check-repeat';
void repeatIsAStmt;

function isChoice(expr: Expr | ChooseExpr): expr is ChooseExpr {
  return expr.kind === 'check-choose';
}

const parser = await learnerCode(import('#ch05/parser.ts'));
const grammars = await learnerCode(import('#ch05/grammar.ts'));
const printers = await learnerCode(import('#ch05/printer.ts'));
const errors = await learnerCode(import('#ch05/errors.ts'));

/** `repeat COUNT { … }`: a keyword statement with a nested block. */
function parseRepeat(p: Parser, keyword: Token): RepeatStmt {
  const count = p.parseExpression(0);
  const body = p.parseBody();
  return { kind: 'check-repeat', count, body, pos: { line: keyword.line, column: keyword.column } };
}

/** `cond ? a : b`: a right-associative infix rule below `||`, with a new mark. */
const choose = {
  power: 1,
  parse(p: Parser, cond: Expr, question: Token): Expr {
    const then = p.parseExpression(0);
    p.expect(':', `':' in a choice`);
    const otherwise = p.parseExpression(1);
    const node: ChooseExpr = { kind: 'check-choose', cond, then, otherwise, pos: { line: question.line, column: question.column } };
    return node as unknown as Expr;
  },
};

function extended() {
  return grammars.extendGrammar(grammars.CORE_GRAMMAR, {
    keywords: ['repeat'],
    punctuation: ['?'],
    statements: { repeat: parseRepeat },
    infix: { '?': choose },
  });
}

/** What `value` is, reported under `name` (graded work is held to the reference's); returns it. */
function seen<T>(name: string, value: T): T {
  reportLines(name, [String(value)]);
  return value;
}

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    if (e instanceof errors.CompileError) return e.message;
    throw e;
  }
  return 'no error at all';
}

check('grammar: a later chapter adds a statement, an operator and a mark through extendGrammar', () => {
  const grammar = extended();
  const program = parser.parse('fn main() {\n  repeat n > 0 ? 3 : 4 { let i = 1; print(i); }\n}', grammar);
  const statement = program.functions[0]!.body.statements[0]!;
  assert.equal(reportTree('repeat n > 0 ? 3 : 4 { … }', statement), {
    kind: 'check-repeat',
    count: {
      kind: 'check-choose',
      cond: { kind: 'binary', op: '>', left: { kind: 'name', name: 'n' }, right: { kind: 'int', value: '0n' } },
      then: { kind: 'int', value: '3n' },
      otherwise: { kind: 'int', value: '4n' },
    },
    body: {
      kind: 'block',
      statements: [
        { kind: 'let', name: 'i', type: null, init: { kind: 'int', value: '1n' } },
        { kind: 'print', value: { kind: 'name', name: 'i' } },
      ],
    },
  });
  assert.equal(reportTree('where the repeat statement starts', statement.pos), { line: 2, column: 3 });
  const nested = parser.parseExpr('a ? b : c ? d : e || f', grammar) as Expr | ChooseExpr;
  if (!isChoice(nested)) throw new Error('expected a choice at the top');
  assert.is(seen('a ? b : c ? d : e || f: the right of the first choice', (nested.otherwise as Expr | ChooseExpr).kind), 'check-choose', 'the new operator groups as its parselet says (to the right)');
  assert.is(
    seen('repeat 2 print(1);', errorOf(() => parser.parse('fn main() { repeat 2 print(1); }', grammar))),
    `1:22: expected '{' after condition, found 'print'`,
    'an extension reports errors through the same helpers',
  );
}, { hints: [
  'parseStatement looks a keyword up in this.grammar.statements; parseExpression looks operators up in this.grammar.infix.',
  'tokenize(source, grammar) takes keywords and punctuation from the grammar it is given, not from the constants.',
] });

check('grammar: what may be assigned to is the grammar\'s call', () => {
  const callsToo = grammars.extendGrammar(grammars.CORE_GRAMMAR, { assignable: (target) => target.kind === 'call' });
  const body = (source: string, grammar = callsToo) => reportTree(source, parser.parse(`fn main() { ${source} }`, grammar).functions[0]!.body.statements);
  assert.equal(body('f(x) = 1; y = 2;'), [
    { kind: 'assign', target: { kind: 'call', callee: 'f', args: [{ kind: 'name', name: 'x' }] }, value: { kind: 'int', value: '1n' } },
    { kind: 'assign', target: { kind: 'name', name: 'y' }, value: { kind: 'int', value: '2n' } },
  ], 'an extension widens the targets; names stay assignable');
  assert.is(seen('(f(x)) = 1; with calls assignable', errorOf(() => parser.parse('fn main() { (f(x)) = 1; }', callsToo))), '1:20: cannot assign to a parenthesized expression');
  assert.is(seen('f(x) = 1; in the core grammar', errorOf(() => parser.parse('fn main() { f(x) = 1; }'))), '1:18: cannot assign to this expression', 'the core grammar is unchanged');
}, { hints: ['The assignment asks this.grammar.assignable(expr), not expr.kind === \'name\'.'] });

check('grammar: a later chapter adds a kind of written type', () => {
  const listTypes = grammars.extendGrammar(grammars.CORE_GRAMMAR, {
    types: {
      '[': (p, open) => {
        const element = p.parseType();
        p.expect(']', `']' after element type`);
        return { kind: 'check-list', element, pos: { line: open.line, column: open.column } } as unknown as TypeNode;
      },
    },
  });
  const program = parser.parse('fn f(xs: [[int]]): [bool] { let y: int = 1; }', listTypes);
  const fn = program.functions[0]!;
  assert.equal(reportTree('xs: [[int]]', fn.params[0]!.type), { kind: 'check-list', element: { kind: 'check-list', element: { kind: 'type-name', name: 'int' } } });
  assert.equal(reportTree('returns [bool]', fn.returnType), { kind: 'check-list', element: { kind: 'type-name', name: 'bool' } });
  assert.is(seen('xs: [int)', errorOf(() => parser.parse('fn f(xs: [int) {}', listTypes))), `1:14: expected ']' after element type, found ')'`);
  assert.is(seen('xs: [int] in the core grammar', errorOf(() => parser.parse('fn f(xs: [int]) {}'))), `1:10: expected type name, found '['`, 'the core grammar is unchanged');
}, { hints: ['Parser.parseType (given) looks types up in this.grammar.types.'] });

check('grammar: extending a grammar leaves the base grammar unchanged', () => {
  const before = grammars.CORE_GRAMMAR.punctuation.length;
  extended();
  assert.is(seen('marks added to the core grammar', grammars.CORE_GRAMMAR.punctuation.length - before), 0);
  assert.not.ok(seen('the core grammar has repeat', grammars.CORE_GRAMMAR.statements.has('repeat')));
  assert.is(seen('a ? b : c in the core grammar', errorOf(() => parser.parseExpr('a ? b : c'))), `1:3: unexpected character '?'`);
  assert.is(
    seen('repeat 2 { } in the core grammar', errorOf(() => parser.parse('fn main() { repeat 2 { } }'))),
    `1:20: expected ';' after statement, found '2'`,
    'without the extension, `repeat` is a name',
  );
});

check('printer: node kinds it does not know go to its extension', () => {
  const grammar = extended();
  const program = parser.parse('fn main() { repeat 2 { print(a ? 1 : -2); x = -(b ? 3 : 4) + 1; } }', grammar);
  const printer = new printers.Printer({
    stmt: (stmt, indent, p) =>
      stmt.kind === 'check-repeat' ? `${indent}repeat ${p.expr(stmt.count)} ${p.block(stmt.body, indent)}` : undefined,
    expr: (expr: Expr | ChooseExpr, p) =>
      isChoice(expr) ? `(${p.expr(expr.cond)} ? ${p.expr(expr.then)} : ${p.expr(expr.otherwise)})` : undefined,
  });
  const text = seen('printed with the extension', printer.program(program));
  assert.is(text, 'fn main() {\n  repeat 2 {\n    print((a ? 1 : (-2)));\n    x = ((-(b ? 3 : 4)) + 1);\n  }\n}\n',
    'a new kind inside a core one is printed through the extension too');
  assert.equal(reportTree('the printed text parsed back', parser.parse(text, grammar)), strip(program), 'the printed text parses back to the same tree');
  const thrown = thrownBy(() => printers.printProgram(program));
  seen('printed without an extension', thrown === undefined ? 'printed' : `threw, naming the kind: ${thrown instanceof Error && /check-repeat/.test(thrown.message)}`);
  assert.throws(() => printers.printProgram(program), /check-repeat/, 'without an extension, the printer names the kind it does not know');
}, { hints: [
  'Print children with this.expr(…), not printExpr(…): printExpr is a printer without the extension.',
  'For a kind the switch does not know, return this.#other(\'expression\', expr, this.#extension.expr?.(expr, this)).',
] });
