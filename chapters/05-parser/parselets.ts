/**
 * Chapter 05: the rules of the core language, as parselets.
 *
 * A parselet is a small function that parses one construct once the parser has seen the
 * token that starts it (a prefix or statement parselet) or the operator in its middle (an
 * infix parselet). The parser itself knows none of them: it looks them up by token kind in
 * the grammar (grammar.ts), which is how a later chapter adds syntax without editing this
 * file. Every parselet receives its token already consumed.
 *
 * The positions the nodes carry are the ones ast.ts defines; the error messages are the ones
 * parser.ts lists.
 */
import type { BinaryOp, Block, Expr, IfStmt, Pos, Stmt, UnaryOp } from './ast.ts';
import { CompileError } from './errors.ts';
import type { InfixParselet } from './grammar.ts';
import type { Token } from './lexer.ts';
import type { Parser } from './parser.ts';
import { todo } from '#native/todo.ts';

/**
 * How tightly each binary operator holds its operands: a higher level binds tighter. An
 * operator at level L has the left binding power 2L in the Pratt loop, and parses its right
 * operand with the minimum power 2L + 1, which makes it left-associative (`a - b - c` is
 * `(a - b) - c`). Comparisons are non-associative: `a < b < c` is an error, not a comparison
 * of a boolean with an integer.
 */
export const BINARY_OPERATORS: Readonly<Record<BinaryOp, { level: number; associativity: 'left' | 'none' }>> = {
  '||': { level: 1, associativity: 'left' },
  '&&': { level: 2, associativity: 'left' },
  '==': { level: 3, associativity: 'none' },
  '!=': { level: 3, associativity: 'none' },
  '<': { level: 4, associativity: 'none' },
  '<=': { level: 4, associativity: 'none' },
  '>': { level: 4, associativity: 'none' },
  '>=': { level: 4, associativity: 'none' },
  '|': { level: 5, associativity: 'left' },
  '^': { level: 6, associativity: 'left' },
  '&': { level: 7, associativity: 'left' },
  '<<': { level: 8, associativity: 'left' },
  '>>': { level: 8, associativity: 'left' },
  '>>>': { level: 8, associativity: 'left' },
  '+': { level: 9, associativity: 'left' },
  '-': { level: 9, associativity: 'left' },
  '*': { level: 10, associativity: 'left' },
  '/': { level: 10, associativity: 'left' },
  '%': { level: 10, associativity: 'left' },
};

/** Prefix operators bind tighter than every binary operator: `-a * b` is `(-a) * b`. */
export const PREFIX_LEVEL = 11;

/** 2^63: one more than the largest int64. */
export const INT64_LIMIT = 1n << 63n;

/** The most digits a hex literal may have after `0x`: 16 digits of 4 bits are 64 bits. */
export const MAX_HEX_DIGITS = 16;

/** Where a token starts. */
export function posOf(token: Token): Pos {
  return { line: token.line, column: token.column };
}

/** Where a statement ends: the closing `}` of its last block, or its own position. */
export function endOf(stmt: Stmt): Pos {
  if (stmt.kind === 'block') return stmt.end;
  if (stmt.kind === 'if') return stmt.otherwise ? stmt.otherwise.end : stmt.then.end;
  return stmt.pos;
}

// ── expressions ──────────────────────────────────────────────────────────────────────

/** The infix parselet of a binary operator at `level`: left binding power 2 * level. */
export function binaryParselet(level: number, associativity: 'left' | 'none'): InfixParselet {
  const power = 2 * level;
  return {
    power,
    nonAssociative: associativity === 'none',
    parse: (parser, left, operator) => parseBinary(parser, left, operator, power),
  };
}

/**
 * The rest of `left OP right` once `OP` (whose left binding power is `power`) is consumed.
 * The node is at the operator.
 */
export function parseBinary(parser: Parser, left: Expr, operator: Token, power: number): Expr {
  // TODO: parse the right operand with a minimum power one above the operator's own (that
  // is what makes `a - b - c` group as `(a - b) - c`), and return a binary node at the
  // operator; its op is the operator token's kind.
  return todo('parseBinary');
}

/** An integer literal, such as `42` or `0xff`. */
export function parseIntLiteral(_parser: Parser, token: Token): Expr {
  // TODO: an int node at the token; its value is intValue(token, false).
  return todo('parseIntLiteral');
}

/** `true` or `false`. */
export function parseBoolLiteral(_parser: Parser, token: Token): Expr {
  // TODO: a bool node at the token: true for the `true` keyword, false for `false`.
  return todo('parseBoolLiteral');
}

/** A variable, or a call if `(` follows the name. */
export function parseNameOrCall(parser: Parser, token: Token): Expr {
  // TODO: if the next token is `(`, this is a call: parseCall(parser, token). Otherwise a
  // name node at the token.
  return todo('parseNameOrCall');
}

/** `( expression )`: the inner expression itself, marked as parenthesized (no node of its own). */
export function parseGroup(parser: Parser, _open: Token): Expr {
  // TODO: a whole expression (minimum power 0), then `)` ("')' after expression"). Return
  // the inner expression itself, passed through parser.parenthesized(…).
  return todo('parseGroup');
}

/** `-x`, `!x`, `~x`, and the literal `-9223372036854775808` (INT64_MIN). */
export function parseUnary(parser: Parser, token: Token): Expr {
  // TODO: a unary node at the operator token. Its operand is parsed with the minimum power
  // 2 * PREFIX_LEVEL, so that it takes nothing looser than another prefix operator; except
  // that an int literal right after `-` is consumed directly as an int node read with
  // intValue(literal, true) (the only place 9223372036854775808 is allowed).
  return todo('parseUnary');
}

/** `name(args…)`: the name is consumed, the next token is `(`. The node is at the name. */
export function parseCall(parser: Parser, name: Token): Expr {
  // TODO: consume `(`; unless `)` follows, parse arguments (each a whole expression)
  // separated by `,`; then expect `)` ("')' after arguments").
  return todo('parseCall');
}

/**
 * The 64-bit value of an integer literal token. Decimal literals must be at most 2^63 - 1,
 * except directly after a unary minus, where 2^63 is allowed (it wraps to INT64_MIN, and
 * negating INT64_MIN wraps to itself, so `-9223372036854775808` means INT64_MIN). Hex
 * literals are bit patterns of at most 16 digits (leading zeros count), so every one fits.
 */
export function intValue(token: Token, afterMinus: boolean): bigint {
  // TODO: a hex literal (0x or 0X) with more than MAX_HEX_DIGITS digits fails with "integer
  // literal TEXT has more than 16 hex digits". BigInt(token.text) reads decimal and 0x…
  // text. A decimal value must be below INT64_LIMIT (or equal to it when afterMinus), else
  // "integer literal TEXT does not fit in 64 bits". Both errors are CompileErrors at the
  // token. Return the value as a signed 64-bit number: BigInt.asIntN(64, value).
  return todo('intValue');
}

// ── statements ───────────────────────────────────────────────────────────────────────

/** `let name [: type] = init ;`, at `let`. */
export function parseLet(parser: Parser, keyword: Token): Stmt {
  // TODO: a variable name ("variable name"); an optional `: type` (parser.parseType());
  // `=` ("'=' in let statement"); the initial value; the `;` (parser.expectSemicolon()).
  return todo('parseLet');
}

/**
 * `if cond { … } [else { … } | else if …]`, at `if`. An `else if` becomes an else block
 * holding the inner `if` alone, counted as one level of nesting.
 */
export function parseIf(parser: Parser, keyword: Token): IfStmt {
  // TODO: the condition, then its block (parser.parseBody()). If `else` follows: either
  // `if` (consume it and call parseIf again, between parser.enter() and parser.leave(), and
  // wrap the result in a block { kind: 'block', statements: [inner], pos: inner.pos,
  // end: endOf(inner) }), or a block (parser.parseBlock()), or else the error
  // "expected '{' or 'if' after 'else'" at the next token (parser.errorAtNext).
  return todo('parseIf');
}

/** `while cond { … }`, at `while`. */
export function parseWhile(parser: Parser, keyword: Token): Stmt {
  // TODO: the condition, then the body (parser.parseBody()).
  return todo('parseWhile');
}

/** `return value ;`, at `return`. */
export function parseReturn(parser: Parser, keyword: Token): Stmt {
  // TODO: the value, then the `;`.
  return todo('parseReturn');
}

/** `print ( value ) ;`, at `print`. */
export function parsePrint(parser: Parser, keyword: Token): Stmt {
  // TODO: `(` ("'(' after 'print'"), the value, `)` ("')' after expression"), the `;`.
  return todo('parsePrint');
}
