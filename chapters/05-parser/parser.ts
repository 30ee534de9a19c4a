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
import { todo } from '#native/todo.ts';

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

  parseType(): TypeNode {
    const token = this.expect('name', 'type name');
    return { kind: 'type-name', name: token.text, pos: posOf(token) };
  }

  // ── statements ─────────────────────────────────────────────────────────────────────

  /** `{ statement* }`. The caller has checked that the next token is `{`. */
  parseBlock(): Block {
    // TODO: enter() (nesting), consume the `{`, parse statements until `}` or eof, then
    // expect `}` with "'}' after block", leave(). The block's pos is the `{`, its end the `}`.
    return todo('Parser.parseBlock');
  }

  parseStatement(): Stmt {
    // TODO: switch on this.peek().kind:
    //   '{'      a nested block
    //   'let'    let NAME [: type] = expr ;        ("variable name", "'=' in let statement")
    //   'if'     this.parseIf()
    //   'while'  while expr body                   (parseBody gives the block)
    //   'return' return expr ;
    //   'print'  print ( expr ) ;                  ("'(' after 'print'", "')' after expression")
    //   else     an expression; then, if `=` follows, an assignment (only to a name, else
    //            "cannot assign to this expression" at the `=`), or an expression statement.
    // Every statement that ends in `;` uses expectSemicolon(). Positions: see ast.ts.
    return todo('Parser.parseStatement');
  }

  parseIf(): Stmt {
    // TODO: if expr body [else (if … | block)]. For `else if`, wrap the inner if statement in
    // a block: { kind: 'block', statements: [inner], pos: inner.pos, end: endOf(inner) },
    // between enter() and leave() so that long else-if chains count as nesting.
    // Anything else after `else` is "expected '{' or 'if' after 'else'".
    return todo('Parser.parseIf');
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

  /**
   * Parses an expression whose operators all bind at least as tightly as `minPower`.
   * Called with 0 for a whole expression.
   */
  parseExpression(minPower: number): Expr {
    // TODO: the Pratt loop.
    //   enter(); left = parsePrefix();
    //   loop: info = binaryInfo(next token's kind); stop if there is none or 2 * info.level < minPower;
    //         for a non-associative operator at the same level as the operator this loop combined
    //         last, fail: comparison 'OP' cannot follow 'PREV' without parentheses (at OP);
    //         consume it, right = parseExpression(2 * info.level + 1), left = a binary node at the operator.
    //   leave(); return left.
    return todo('Parser.parseExpression');
  }

  /** Everything an expression can start with: literals, names, calls, `(…)`, prefix operators. */
  parsePrefix(): Expr {
    // TODO: by the next token:
    //   int           an int node; its value is intValue(token, false)
    //   true / false  a bool node
    //   name          a name node, or a call if `(` follows: this.parseCall(token)
    //   (             expression, then expect "')' after expression"; no node for the parentheses
    //   - ! ~         a unary node; the operand is parseExpression(2 * PREFIX_LEVEL), except that
    //                 an int literal right after `-` is read with intValue(token, true)
    //   else          this.errorAtNext('expected expression')
    return todo('Parser.parsePrefix');
  }

  /** `name(args…)`; the name is consumed, the next token is `(`. */
  parseCall(name: Token): Expr {
    // TODO: consume `(`; unless `)` follows, parse arguments separated by `,`; expect
    // "')' after arguments". The node is at the name.
    return todo('Parser.parseCall');
  }
}

/**
 * The 64-bit value of an integer literal token. Decimal literals must be at most 2^63 - 1,
 * except directly after a unary minus, where 2^63 is allowed (it wraps to INT64_MIN, and
 * negating INT64_MIN wraps to itself, so `-9223372036854775808` means INT64_MIN). Hex
 * literals are bit patterns of up to 64 bits.
 */
export function intValue(token: Token, afterMinus: boolean): bigint {
  // TODO: BigInt(token.text) reads decimal and 0x… text. Decimal must be below 2^63 (or
  // equal to it when afterMinus), hex below 2^64; otherwise CompileError at the token:
  // "integer literal TEXT does not fit in 64 bits". Return the value as a signed 64-bit
  // number: BigInt.asIntN(64, value).
  return todo('intValue');
}

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
