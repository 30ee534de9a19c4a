/**
 * Chapter 10: the syntax of exceptions, added to chapter 05's grammar from this folder.
 *
 *   throw value;                          value is an int, the payload
 *   try { … } catch name { … }            a throw in the try block (or in any function it
 *                                         calls) continues in the catch block, with the
 *                                         payload in `name`, an int local of that block
 *
 * `throw`, `try` and `catch` are keywords already (chapter 05 reserved them), so no program
 * of an earlier chapter can use them as names. Positions follow chapter 05's rule: a
 * statement is at its keyword; the catch name keeps its own position, where the variable is
 * declared.
 */
import type { Block, Expr, Pos, Stmt } from '#ch05/ast.ts';
import type { GrammarExtension } from '#ch05/grammar.ts';
import type { Token } from '#ch05/lexer.ts';
import { posOf } from '#ch05/parselets.ts';
import type { Parser } from '#ch05/parser.ts';
import type { PrintExtension } from '#ch05/printer.ts';

/** `throw value;`, at `throw`. */
export interface ThrowStmt { readonly kind: 'throw'; readonly value: Expr; readonly pos: Pos }

/** `try { body } catch name { handler }`, at `try`. */
export interface TryStmt {
  readonly kind: 'try';
  readonly body: Block;
  /** The catch name: an int local of the handler block, holding the payload. */
  readonly name: string;
  readonly namePos: Pos;
  readonly handler: Block;
  readonly pos: Pos;
}

declare module '#ch05/ast.ts' {
  interface StmtKinds {
    throw: ThrowStmt;
    try: TryStmt;
  }
}

/** `throw value ;`, at `throw`. */
export function parseThrow(parser: Parser, keyword: Token): Stmt {
  const value = parser.parseExpression(0);
  parser.expectSemicolon();
  return { kind: 'throw', value, pos: posOf(keyword) };
}

/** `try { … } catch name { … }`, at `try`. */
export function parseTry(parser: Parser, keyword: Token): Stmt {
  if (!parser.check('{')) throw parser.errorAtNext(`expected '{' after 'try'`);
  const body = parser.parseBlock();
  parser.expect('catch', `'catch' after the try block`);
  const name = parser.expect('name', `a name after 'catch'`);
  if (!parser.check('{')) throw parser.errorAtNext(`expected '{' after the catch name`);
  const handler = parser.parseBlock();
  return { kind: 'try', body, name: name.text, namePos: posOf(name), handler, pos: posOf(keyword) };
}

/** What chapter 10 adds to the grammar. */
export const EXCEPTIONS_GRAMMAR: GrammarExtension = {
  keywords: ['throw', 'try', 'catch'],
  statements: { throw: parseThrow, try: parseTry },
};

/** How chapter 05's printer writes the two statements: `new Printer(EXCEPTIONS_PRINTER)`. */
export const EXCEPTIONS_PRINTER: PrintExtension = {
  stmt: (stmt, indent, printer) => {
    if (stmt.kind === 'throw') return `${indent}throw ${printer.expr(stmt.value)};`;
    if (stmt.kind === 'try') return `${indent}try ${printer.block(stmt.body, indent)} catch ${stmt.name} ${printer.block(stmt.handler, indent)}`;
    return undefined;
  },
};
