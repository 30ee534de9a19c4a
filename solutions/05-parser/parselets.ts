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

// @book:start binding-powers
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
// @book:end binding-powers

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
  const right = parser.parseExpression(power + 1);
  return { kind: 'binary', op: operator.kind as BinaryOp, left, right, pos: posOf(operator) };
}

/** An integer literal, such as `42` or `0xff`. */
export function parseIntLiteral(_parser: Parser, token: Token): Expr {
  return { kind: 'int', value: intValue(token, false), pos: posOf(token) };
}

/** `true` or `false`. */
export function parseBoolLiteral(_parser: Parser, token: Token): Expr {
  return { kind: 'bool', value: token.kind === 'true', pos: posOf(token) };
}

/** A variable, or a call if `(` follows the name. */
export function parseNameOrCall(parser: Parser, token: Token): Expr {
  if (parser.check('(')) return parseCall(parser, token);
  return { kind: 'name', name: token.text, pos: posOf(token) };
}

/** `( expression )`: the inner expression itself, marked as parenthesized (no node of its own). */
export function parseGroup(parser: Parser, _open: Token): Expr {
  const inner = parser.parseExpression(0);
  parser.expect(')', `')' after expression`);
  return parser.parenthesized(inner);
}

/** `-x`, `!x`, `~x`, and the literal `-9223372036854775808` (INT64_MIN). */
export function parseUnary(parser: Parser, token: Token): Expr {
  const op = token.kind as UnaryOp;
  const next = parser.peek();
  // `-9223372036854775808` is INT64_MIN: the one literal only legal right after a minus.
  if (op === '-' && next.kind === 'int') {
    parser.advance();
    const literal: Expr = { kind: 'int', value: intValue(next, true), pos: posOf(next) };
    return { kind: 'unary', op, operand: literal, pos: posOf(token) };
  }
  const operand = parser.parseExpression(2 * PREFIX_LEVEL);
  return { kind: 'unary', op, operand, pos: posOf(token) };
}

/** `name(args…)`: the name is consumed, the next token is `(`. The node is at the name. */
export function parseCall(parser: Parser, name: Token): Expr {
  parser.advance();
  const args: Expr[] = [];
  if (!parser.check(')')) {
    do {
      args.push(parser.parseExpression(0));
    } while (parser.match(','));
  }
  parser.expect(')', `')' after arguments`);
  return { kind: 'call', callee: name.text, args, pos: posOf(name) };
}

/**
 * The 64-bit value of an integer literal token. Decimal literals must be at most 2^63 - 1,
 * except directly after a unary minus, where 2^63 is allowed (it wraps to INT64_MIN, and
 * negating INT64_MIN wraps to itself, so `-9223372036854775808` means INT64_MIN). Hex
 * literals are bit patterns of at most 16 digits (leading zeros count), so every one fits.
 */
export function intValue(token: Token, afterMinus: boolean): bigint {
  const hex = /^0[xX]/.test(token.text);
  if (hex && token.text.length - 2 > MAX_HEX_DIGITS) {
    throw new CompileError(token.line, token.column, `integer literal ${token.text} has more than ${MAX_HEX_DIGITS} hex digits`);
  }
  const value = BigInt(token.text); // BigInt() reads both `123` and `0x7b`
  if (!hex && value >= (afterMinus ? INT64_LIMIT + 1n : INT64_LIMIT)) {
    throw new CompileError(token.line, token.column, `integer literal ${token.text} does not fit in 64 bits`);
  }
  return BigInt.asIntN(64, value);
}

// ── statements ───────────────────────────────────────────────────────────────────────

/** `let name [: type] = init ;`, at `let`. */
export function parseLet(parser: Parser, keyword: Token): Stmt {
  const name = parser.expect('name', 'variable name');
  const type = parser.match(':') ? parser.parseType() : null;
  parser.expect('=', `'=' in let statement`);
  const init = parser.parseExpression(0);
  parser.expectSemicolon();
  return { kind: 'let', name: name.text, type, init, pos: posOf(keyword) };
}

/**
 * `if cond { … } [else { … } | else if …]`, at `if`. An `else if` becomes an else block
 * holding the inner `if` alone, counted as one level of nesting.
 */
export function parseIf(parser: Parser, keyword: Token): IfStmt {
  const cond = parser.parseExpression(0);
  const then = parser.parseBody();
  let otherwise: Block | null = null;
  if (parser.match('else')) {
    if (parser.check('if')) {
      parser.enter();
      const nested = parseIf(parser, parser.advance());
      parser.leave();
      otherwise = { kind: 'block', statements: [nested], pos: nested.pos, end: endOf(nested) };
    } else if (parser.check('{')) {
      otherwise = parser.parseBlock();
    } else {
      throw parser.errorAtNext(`expected '{' or 'if' after 'else'`);
    }
  }
  return { kind: 'if', cond, then, otherwise, pos: posOf(keyword) };
}

/** `while cond { … }`, at `while`. */
export function parseWhile(parser: Parser, keyword: Token): Stmt {
  const cond = parser.parseExpression(0);
  const body = parser.parseBody();
  return { kind: 'while', cond, body, pos: posOf(keyword) };
}

/** `return value ;`, at `return`. */
export function parseReturn(parser: Parser, keyword: Token): Stmt {
  const value = parser.parseExpression(0);
  parser.expectSemicolon();
  return { kind: 'return', value, pos: posOf(keyword) };
}

/** `print ( value ) ;`, at `print`. */
export function parsePrint(parser: Parser, keyword: Token): Stmt {
  parser.expect('(', `'(' after 'print'`);
  const value = parser.parseExpression(0);
  parser.expect(')', `')' after expression`);
  parser.expectSemicolon();
  return { kind: 'print', value, pos: posOf(keyword) };
}
