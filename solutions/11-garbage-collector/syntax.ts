/**
 * Chapter 11: the syntax of arrays, added to chapter 05's grammar from this folder.
 *
 *   [T]                 the type of an array of T, for any type T: [int], [[bool]]
 *   new [T](n)          a new array of n elements, each zero (0, false or null)
 *   a[i]                element i of a (from 0); a[i] = v; stores into it
 *   len(a)              the number of elements of a (a call, so `len` needs no keyword)
 *   null                no array at all: a value of every array type
 *
 * `new` and `null` are keywords already (chapter 05 reserved them). Indexing is a postfix
 * operator that binds tighter than any other, so `-a[i]` is `-(a[i])` and `a[i][j]` is
 * `(a[i])[j]`. Positions follow chapter 05's rule: `a[i]` is at its `[`, `new [T](n)` at
 * `new`, an array type at its `[`.
 */
import type { Expr, Pos, TypeNode } from '#ch05/ast.ts';
import type { GrammarExtension } from '#ch05/grammar.ts';
import type { Token } from '#ch05/lexer.ts';
import { posOf } from '#ch05/parselets.ts';
import type { Parser } from '#ch05/parser.ts';
import type { PrintExtension } from '#ch05/printer.ts';

/** `[element]`, at its `[`. */
export interface ArrayTypeNode { readonly kind: 'array-type'; readonly element: TypeNode; readonly pos: Pos }
/** `new [element](length)`, at `new`. */
export interface NewArrayExpr { readonly kind: 'new-array'; readonly element: TypeNode; readonly length: Expr; readonly pos: Pos }
/** `array[index]`, at its `[`. */
export interface IndexExpr { readonly kind: 'index'; readonly array: Expr; readonly index: Expr; readonly pos: Pos }
/** `null`. */
export interface NullLiteral { readonly kind: 'null'; readonly pos: Pos }

declare module '#ch05/ast.ts' {
  interface ExprKinds {
    'new-array': NewArrayExpr;
    index: IndexExpr;
    null: NullLiteral;
  }
  interface AssignTargetKinds {
    index: IndexExpr;
  }
  interface TypeKinds {
    'array-type': ArrayTypeNode;
  }
}

/** Indexing binds tighter than the prefix operators (22) and every binary one. */
export const INDEX_POWER = 24;

/** `[T]` as a type, after its `[`. */
export function parseArrayType(parser: Parser, open: Token): TypeNode {
  const element = parser.parseType();
  parser.expect(']', `']' after the element type`);
  return { kind: 'array-type', element, pos: posOf(open) };
}

/** `new [T](n)`, after `new`. */
export function parseNew(parser: Parser, keyword: Token): Expr {
  if (!parser.check('[')) throw parser.errorAtNext(`expected '[' after 'new'`);
  const element = parseArrayType(parser, parser.advance()) as ArrayTypeNode;
  parser.expect('(', `'(' before the array's length`);
  const length = parser.parseExpression(0);
  parser.expect(')', `')' after the array's length`);
  return { kind: 'new-array', element: element.element, length, pos: posOf(keyword) };
}

/** `null`. */
export function parseNull(_parser: Parser, token: Token): Expr {
  return { kind: 'null', pos: posOf(token) };
}

/** `left[index]`, after the `[`. */
export function parseIndex(parser: Parser, array: Expr, open: Token): Expr {
  const index = parser.parseExpression(0);
  parser.expect(']', `']' after the index`);
  return { kind: 'index', array, index, pos: posOf(open) };
}

/** What chapter 11 adds to the grammar. */
export const HEAP_GRAMMAR: GrammarExtension = {
  keywords: ['new', 'null'],
  prefix: { new: parseNew, null: parseNull },
  infix: { '[': { power: INDEX_POWER, parse: parseIndex } },
  assignable: (target) => target.kind === 'index',
  types: { '[': parseArrayType },
};

/** How chapter 05's printer writes the new expressions. */
export const HEAP_PRINTER: PrintExtension = {
  expr: (expr, printer) => {
    if (expr.kind === 'null') return 'null';
    if (expr.kind === 'index') return `${printer.expr(expr.array)}[${printer.expr(expr.index)}]`;
    if (expr.kind === 'new-array') return `new [${typeText(expr.element)}](${printer.expr(expr.length)})`;
    return undefined;
  },
  type: (type) => (type.kind === 'array-type' ? typeText(type) : undefined),
};

/** A written type as source text: `[[int]]`. */
export function typeText(type: TypeNode): string {
  return type.kind === 'array-type' ? `[${typeText(type.element)}]` : type.name;
}
