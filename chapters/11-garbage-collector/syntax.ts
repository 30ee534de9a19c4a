/**
 * Chapter 11: the syntax of arrays and records, added to chapter 05's grammar from this folder.
 *
 *   [T]                      the type of an array of T, for any type T: [int], [[bool]], [Point]
 *   new [T](n)               a new array of n elements, each zero (0, false or null)
 *   a[i]                     element i of a (from 0); `a[i] = v;` stores into it
 *   len(a)                   the number of elements of a (a call, so `len` needs no keyword)
 *   struct Point { x: int, y: int }     a record type, declared at the top level
 *   new Point { x: 1, y: 2 } a new record: every field once, in any order
 *   p.x                      field x of p; `p.x = v;` stores into it
 *   null                     no object at all: a value of every array and record type
 *
 * `struct`, `new` and `null` are keywords already (chapter 05 reserved them). A record is made
 * with `new`, like an array: `Point { … }` alone would be ambiguous after `if` and `while`,
 * whose conditions are followed by `{`. Indexing and field access are postfix operators that
 * bind tighter than any other, so `-a[i]` is `-(a[i])` and `p.next.next` is `(p.next).next`.
 * Positions follow chapter 05's rule: `a[i]` is at its `[`, `p.x` at its `.`, `new …` at
 * `new`, an array type at its `[`; a struct declaration at its name, a field at its name.
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
/** `new Name { field: value, … }`, at `new`. */
export interface NewRecordExpr {
  readonly kind: 'new-record';
  readonly name: string;
  readonly namePos: Pos;
  readonly fields: readonly { readonly name: string; readonly value: Expr; readonly pos: Pos }[];
  readonly pos: Pos;
}
/** `object.name`, at its `.`. */
export interface FieldExpr { readonly kind: 'field'; readonly object: Expr; readonly name: string; readonly namePos: Pos; readonly pos: Pos }
/** `struct Name { field: type, … }`, at its name. */
export interface StructDecl {
  readonly kind: 'struct';
  readonly name: string;
  readonly fields: readonly { readonly name: string; readonly type: TypeNode; readonly pos: Pos }[];
  readonly pos: Pos;
}

declare module '#ch05/ast.ts' {
  interface ExprKinds {
    'new-array': NewArrayExpr;
    index: IndexExpr;
    null: NullLiteral;
    'new-record': NewRecordExpr;
    field: FieldExpr;
  }
  interface AssignTargetKinds {
    index: IndexExpr;
    field: FieldExpr;
  }
  interface DeclarationKinds {
    struct: StructDecl;
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

/** `new [T](n)` or `new Name { field: value, … }`, after `new`. */
export function parseNew(parser: Parser, keyword: Token): Expr {
  if (parser.check('name')) return parseNewRecord(parser, keyword);
  if (!parser.check('[')) throw parser.errorAtNext(`expected '[' or a record type after 'new'`);
  const element = parseArrayType(parser, parser.advance()) as ArrayTypeNode;
  parser.expect('(', `'(' before the array's length`);
  const length = parser.parseExpression(0);
  parser.expect(')', `')' after the array's length`);
  return { kind: 'new-array', element: element.element, length, pos: posOf(keyword) };
}

/** `new Name { field: value, … }` (a trailing comma is fine), after `new`. */
function parseNewRecord(parser: Parser, keyword: Token): Expr {
  const name = parser.advance();
  parser.expect('{', `'{' after the record type`);
  const fields: { name: string; value: Expr; pos: Pos }[] = [];
  while (!parser.check('}')) {
    const field = parser.expect('name', 'field name');
    parser.expect(':', `':' after the field name`);
    fields.push({ name: field.text, value: parser.parseExpression(0), pos: posOf(field) });
    if (!parser.match(',')) break;
  }
  parser.expect('}', `'}' after the fields`);
  return { kind: 'new-record', name: name.text, namePos: posOf(name), fields, pos: posOf(keyword) };
}

/** `left.name`, after the `.`. */
export function parseField(parser: Parser, object: Expr, dot: Token): Expr {
  const name = parser.expect('name', `field name after '.'`);
  return { kind: 'field', object, name: name.text, namePos: posOf(name), pos: posOf(dot) };
}

/** `struct Name { field: type, … }` at the top level (a trailing comma is fine), after `struct`. */
export function parseStruct(parser: Parser, _keyword: Token): StructDecl {
  const name = parser.expect('name', `record type name after 'struct'`);
  parser.expect('{', `'{' after the record type name`);
  const fields: { name: string; type: TypeNode; pos: Pos }[] = [];
  while (!parser.check('}')) {
    const field = parser.expect('name', 'field name');
    parser.expect(':', `':' after the field name`);
    fields.push({ name: field.text, type: parser.parseType(), pos: posOf(field) });
    if (!parser.match(',')) break;
  }
  parser.expect('}', `'}' after the fields`);
  return { kind: 'struct', name: name.text, fields, pos: posOf(name) };
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
  keywords: ['new', 'null', 'struct'],
  prefix: { new: parseNew, null: parseNull },
  infix: { '[': { power: INDEX_POWER, parse: parseIndex }, '.': { power: INDEX_POWER, parse: parseField } },
  assignable: (target) => target.kind === 'index' || target.kind === 'field',
  types: { '[': parseArrayType },
  declarations: { struct: parseStruct },
};

/** How chapter 05's printer writes the new expressions. */
export const HEAP_PRINTER: PrintExtension = {
  expr: (expr, printer) => {
    if (expr.kind === 'null') return 'null';
    if (expr.kind === 'index') return `${printer.expr(expr.array)}[${printer.expr(expr.index)}]`;
    if (expr.kind === 'new-array') return `new [${typeText(expr.element)}](${printer.expr(expr.length)})`;
    if (expr.kind === 'field') return `${printer.expr(expr.object)}.${expr.name}`;
    if (expr.kind === 'new-record') return `new ${expr.name} { ${expr.fields.map((f) => `${f.name}: ${printer.expr(f.value)}`).join(', ')} }`;
    return undefined;
  },
  type: (type) => (type.kind === 'array-type' ? typeText(type) : undefined),
};

/** A written type as source text: `[[int]]`. */
export function typeText(type: TypeNode): string {
  return type.kind === 'array-type' ? `[${typeText(type.element)}]` : type.name;
}
