/**
 * Chapter 05: the parser.
 *
 * Statements and declarations are parsed by recursive descent (one method per rule of the
 * grammar); expressions by a Pratt parser driven by a table of binding powers. Every error
 * is a `CompileError` at the offending token, in the form
 *
 *   L:C: expected <what> [<where>], found <token>
 *
 * The messages, all of them:
 *
 *   expected 'fn', found X                       (at top level)
 *   expected function name, found X
 *   expected '(' after function name, found X
 *   expected parameter name, found X
 *   expected ')' after parameters, found X       (also when a parameter is not followed by ',' or ')')
 *   expected type name, found X
 *   expected '{' before function body, found X
 *   expected '}' after block, found X
 *   expected variable name, found X
 *   expected '=' in let statement, found X
 *   expected '{' after condition, found X        (after the condition of `if` and `while`)
 *   expected '{' or 'if' after 'else', found X
 *   expected '(' after 'print', found X
 *   expected ')' after expression, found X       (closing `(…)` and `print(…)`)
 *   expected ')' after arguments, found X        (also when an argument is not followed by ',' or ')')
 *   expected ';' after statement, found X
 *   expected expression, found X
 *   cannot assign to this expression             (at the `=`)
 *   comparison 'OP2' cannot follow 'OP1' without parentheses   (at OP2: `a < b < c`)
 *   integer literal N does not fit in 64 bits    (at the literal)
 *   nested too deeply                            (more than 256 open expressions or blocks)
 *
 * where X is `'text'` of the token found, or `end of input`.
 */
import type {
  AssignTarget, BinaryOp, Block, Expr, FunctionDecl, Param, Pos, Program, Stmt, TypeNode, UnaryOp,
} from './ast.ts';
import { CompileError } from './errors.ts';
import { describe, tokenize, type Token, type TokenKind } from './lexer.ts';

// @book:start binding-powers
/**
 * How tightly each binary operator holds its operands: a higher level binds tighter.
 * In the Pratt loop an operator at level L has left binding power 2L; its right operand is
 * parsed with minimum power 2L + 1, which makes it left-associative (`a - b - c` is
 * `(a - b) - c`). Comparisons are non-associative: `a < b < c` is an error, not a
 * comparison of a boolean with an integer.
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

/** The deepest nesting of expressions and blocks the parser accepts. */
export const MAX_NESTING = 256;

/** 2^63: one more than the largest int64. */
export const INT64_LIMIT = 1n << 63n;

/** The level and associativity of a binary operator token; undefined for other tokens. */
export function binaryInfo(kind: TokenKind): { level: number; associativity: 'left' | 'none' } | undefined {
  return Object.hasOwn(BINARY_OPERATORS, kind) ? BINARY_OPERATORS[kind as BinaryOp] : undefined;
}

/** Parses a whole program. Throws `CompileError` on the first error. */
export function parse(source: string): Program {
  return new Parser(tokenize(source)).parseProgram();
}

/** Parses `source` as one expression and nothing else (for tests and the REPL). */
export function parseExpr(source: string): Expr {
  const parser = new Parser(tokenize(source));
  const expr = parser.parseExpression(0);
  parser.expectEnd();
  return expr;
}

export class Parser {
  readonly #tokens: readonly Token[];
  #index = 0;
  #depth = 0;

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  // ── token helpers ──────────────────────────────────────────────────────────────────

  /** The next token, not consumed. */
  peek(offset = 0): Token {
    return this.#tokens[Math.min(this.#index + offset, this.#tokens.length - 1)]!;
  }

  /** Consumes and returns the next token (never moves past `eof`). */
  advance(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.#index++;
    return token;
  }

  check(kind: TokenKind): boolean {
    return this.peek().kind === kind;
  }

  /** Consumes the next token if it is `kind`. */
  match(kind: TokenKind): boolean {
    if (!this.check(kind)) return false;
    this.advance();
    return true;
  }

  /** Consumes a token of `kind`, or fails with `expected <what>, found <token>`. */
  expect(kind: TokenKind, what: string): Token {
    if (this.check(kind)) return this.advance();
    throw this.errorAtNext(`expected ${what}`);
  }

  /** `expected <what>, found <next token>`, positioned at the next token. */
  errorAtNext(expected: string): CompileError {
    const token = this.peek();
    return new CompileError(token.line, token.column, `${expected}, found ${describe(token)}`);
  }

  expectEnd(): void {
    if (!this.check('eof')) throw this.errorAtNext('expected end of input');
  }

  /** Counts one more level of nesting; fails past `MAX_NESTING` rather than overflow the JS stack. */
  enter(): void {
    if (++this.#depth > MAX_NESTING) {
      const token = this.peek();
      throw new CompileError(token.line, token.column, 'nested too deeply');
    }
  }

  /** Undoes one `enter()`. */
  leave(): void {
    this.#depth--;
  }

  // ── declarations ───────────────────────────────────────────────────────────────────

  parseProgram(): Program {
    const functions: FunctionDecl[] = [];
    while (!this.check('eof')) {
      if (!this.check('fn')) throw this.errorAtNext(`expected 'fn'`);
      functions.push(this.parseFunction());
    }
    return { kind: 'program', functions };
  }

  // @book:start function
  parseFunction(): FunctionDecl {
    this.expect('fn', `'fn'`);
    const name = this.expect('name', 'function name');
    this.expect('(', `'(' after function name`);
    const params: Param[] = [];
    if (!this.check(')')) {
      do {
        const param = this.expect('name', 'parameter name');
        const type = this.match(':') ? this.parseType() : null;
        params.push({ name: param.text, type, pos: posOf(param) });
      } while (this.match(','));
    }
    this.expect(')', `')' after parameters`);
    const returnType = this.match(':') ? this.parseType() : null;
    if (!this.check('{')) throw this.errorAtNext(`expected '{' before function body`);
    const body = this.parseBlock();
    return { kind: 'function', name: name.text, params, returnType, body, pos: posOf(name) };
  }
  // @book:end function

  parseType(): TypeNode {
    const token = this.expect('name', 'type name');
    return { kind: 'type-name', name: token.text, pos: posOf(token) };
  }

  // ── statements ─────────────────────────────────────────────────────────────────────

  // @book:start block
  /** `{ statement* }`. The caller has checked that the next token is `{`. */
  parseBlock(): Block {
    this.enter();
    const open = this.advance();
    const statements: Stmt[] = [];
    while (!this.check('}') && !this.check('eof')) {
      statements.push(this.parseStatement());
    }
    const close = this.expect('}', `'}' after block`);
    this.leave();
    return { kind: 'block', statements, pos: posOf(open), end: posOf(close) };
  }
  // @book:end block

  // @book:start statement
  parseStatement(): Stmt {
    const token = this.peek();
    switch (token.kind) {
      case '{':
        return this.parseBlock();
      case 'let': {
        this.advance();
        const name = this.expect('name', 'variable name');
        const type = this.match(':') ? this.parseType() : null;
        this.expect('=', `'=' in let statement`);
        const init = this.parseExpression(0);
        this.expectSemicolon();
        return { kind: 'let', name: name.text, type, init, pos: posOf(token) };
      }
      case 'if':
        return this.parseIf();
      case 'while': {
        this.advance();
        const cond = this.parseExpression(0);
        const body = this.parseBody();
        return { kind: 'while', cond, body, pos: posOf(token) };
      }
      case 'return': {
        this.advance();
        const value = this.parseExpression(0);
        this.expectSemicolon();
        return { kind: 'return', value, pos: posOf(token) };
      }
      case 'print': {
        this.advance();
        this.expect('(', `'(' after 'print'`);
        const value = this.parseExpression(0);
        this.expect(')', `')' after expression`);
        this.expectSemicolon();
        return { kind: 'print', value, pos: posOf(token) };
      }
      default: {
        // An expression statement or an assignment: both start with an expression.
        const expr = this.parseExpression(0);
        if (this.check('=')) {
          const equals = this.advance();
          if (expr.kind !== 'name') {
            throw new CompileError(equals.line, equals.column, 'cannot assign to this expression');
          }
          const target: AssignTarget = expr;
          const value = this.parseExpression(0);
          this.expectSemicolon();
          return { kind: 'assign', target, value, pos: posOf(equals) };
        }
        this.expectSemicolon();
        return { kind: 'expr', expr, pos: expr.pos };
      }
    }
  }
  // @book:end statement

  parseIf(): Stmt {
    const token = this.expect('if', `'if'`);
    const cond = this.parseExpression(0);
    const then = this.parseBody();
    let otherwise: Block | null = null;
    if (this.check('else')) {
      this.advance();
      if (this.check('if')) {
        this.enter();
        const nested = this.parseIf();
        this.leave();
        otherwise = { kind: 'block', statements: [nested], pos: nested.pos, end: endOf(nested) };
      } else if (this.check('{')) {
        otherwise = this.parseBlock();
      } else {
        throw this.errorAtNext(`expected '{' or 'if' after 'else'`);
      }
    }
    return { kind: 'if', cond, then, otherwise, pos: posOf(token) };
  }

  /** The block after the condition of `if` and `while`. */
  parseBody(): Block {
    if (!this.check('{')) throw this.errorAtNext(`expected '{' after condition`);
    return this.parseBlock();
  }

  expectSemicolon(): void {
    this.expect(';', `';' after statement`);
  }

  // ── expressions ────────────────────────────────────────────────────────────────────

  // @book:start pratt-loop
  /**
   * Parses an expression whose operators all bind at least as tightly as `minPower`.
   * Called with 0 for a whole expression.
   */
  parseExpression(minPower: number): Expr {
    this.enter();
    let left = this.parsePrefix();
    let previous: BinaryOp | null = null; // the last operator this loop combined
    for (;;) {
      const token = this.peek();
      const info = binaryInfo(token.kind);
      if (info === undefined || 2 * info.level < minPower) break;
      const op = token.kind as BinaryOp;
      if (info.associativity === 'none' && previous !== null && BINARY_OPERATORS[previous].level === info.level) {
        throw new CompileError(token.line, token.column, `comparison '${op}' cannot follow '${previous}' without parentheses`);
      }
      this.advance();
      const right = this.parseExpression(2 * info.level + 1);
      left = { kind: 'binary', op, left, right, pos: posOf(token) };
      previous = op;
    }
    this.leave();
    return left;
  }
  // @book:end pratt-loop

  // @book:start prefix
  /** Everything an expression can start with: literals, names, calls, `(…)`, prefix operators. */
  parsePrefix(): Expr {
    const token = this.peek();
    switch (token.kind) {
      case 'int':
        this.advance();
        return { kind: 'int', value: intValue(token, false), pos: posOf(token) };
      case 'true':
      case 'false':
        this.advance();
        return { kind: 'bool', value: token.kind === 'true', pos: posOf(token) };
      case 'name':
        this.advance();
        if (this.check('(')) return this.parseCall(token);
        return { kind: 'name', name: token.text, pos: posOf(token) };
      case '(': {
        this.advance();
        const inner = this.parseExpression(0);
        this.expect(')', `')' after expression`);
        return inner;
      }
      case '-':
      case '!':
      case '~': {
        this.advance();
        const op = token.kind as UnaryOp;
        // `-9223372036854775808` is INT64_MIN: the one literal only legal right after a minus.
        const next = this.peek();
        const operand: Expr =
          op === '-' && next.kind === 'int'
            ? (this.advance(), { kind: 'int', value: intValue(next, true), pos: posOf(next) })
            : this.parseExpression(2 * PREFIX_LEVEL);
        return { kind: 'unary', op, operand, pos: posOf(token) };
      }
      default:
        throw this.errorAtNext('expected expression');
    }
  }
  // @book:end prefix

  // @book:start call
  /** `name(args…)`; the name is consumed, the next token is `(`. */
  parseCall(name: Token): Expr {
    this.advance();
    const args: Expr[] = [];
    if (!this.check(')')) {
      do {
        args.push(this.parseExpression(0));
      } while (this.match(','));
    }
    this.expect(')', `')' after arguments`);
    return { kind: 'call', callee: name.text, args, pos: posOf(name) };
  }
  // @book:end call
}

// @book:start int-value
/**
 * The 64-bit value of an integer literal token. Decimal literals must be at most 2^63 - 1,
 * except directly after a unary minus, where 2^63 is allowed (it wraps to INT64_MIN, and
 * negating INT64_MIN wraps to itself, so `-9223372036854775808` means INT64_MIN). Hex
 * literals are bit patterns of up to 64 bits.
 */
export function intValue(token: Token, afterMinus: boolean): bigint {
  const value = BigInt(token.text); // BigInt() reads both `123` and `0x7b`
  const hex = /^0[xX]/.test(token.text);
  const limit = hex ? 1n << 64n : afterMinus ? INT64_LIMIT + 1n : INT64_LIMIT;
  if (value >= limit) {
    throw new CompileError(token.line, token.column, `integer literal ${token.text} does not fit in 64 bits`);
  }
  return BigInt.asIntN(64, value);
}
// @book:end int-value

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
