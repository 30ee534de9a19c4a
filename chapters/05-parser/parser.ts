/**
 * Chapter 05: the parser.
 *
 * Declarations and blocks are parsed by recursive descent (one method per rule of the
 * grammar); statements by their leading keyword and expressions by a Pratt parser, both
 * through the tables of a `Grammar` (grammar.ts) whose entries are parselets (parselets.ts).
 * The methods of `Parser` are what a parselet may call: they are the public API a later
 * chapter's syntax is written against. Every error is a `CompileError` at the offending
 * token, in the form
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
 *   expected end of input, found X               (`parseExpr` only)
 *   cannot assign to this expression             (at the `=`)
 *   cannot assign to a parenthesized expression  (at the `=`: `(x) = 1;`)
 *   comparison 'OP2' cannot follow 'OP1' without parentheses   (at OP2: `a < b < c`)
 *   integer literal N does not fit in 64 bits    (at the literal)
 *   integer literal N has more than 16 hex digits   (at the literal)
 *   nested too deeply                            (more than 256 open expressions or blocks)
 *
 * where X is `'text'` of the token found, or `end of input`.
 */
import type { AssignTarget, Block, Declaration, Expr, FunctionDecl, Param, Program, Stmt, TypeNode } from './ast.ts';
import { CompileError } from './errors.ts';
import { CORE_GRAMMAR, type Grammar, type InfixParselet } from './grammar.ts';
import { describe, tokenize, type Token, type TokenKind } from './lexer.ts';
import { posOf } from './parselets.ts';
import { todo } from '#native/todo.ts';

export { BINARY_OPERATORS, INT64_LIMIT, PREFIX_LEVEL, endOf, intValue, posOf } from './parselets.ts';

/** The deepest nesting of expressions and blocks the parser accepts. */
export const MAX_NESTING = 256;

/** Parses a whole program with `grammar`. Throws `CompileError` on the first error. */
export function parse(source: string, grammar: Grammar = CORE_GRAMMAR): Program {
  return new Parser(tokenize(source, grammar), grammar).parseProgram();
}

/** Parses `source` as one expression and nothing else (for tests and the REPL). */
export function parseExpr(source: string, grammar: Grammar = CORE_GRAMMAR): Expr {
  const parser = new Parser(tokenize(source, grammar), grammar);
  const expr = parser.parseExpression(0);
  parser.expectEnd();
  return expr;
}

export class Parser {
  /** The tables this parser looks statements, prefix and infix rules up in. */
  readonly grammar: Grammar;
  readonly #tokens: readonly Token[];
  #index = 0;
  #depth = 0;
  readonly #parenthesized = new WeakSet<Expr>();

  /** A parser over `tokens` (which end with `eof`, as `tokenize` makes them). */
  constructor(tokens: readonly Token[], grammar: Grammar = CORE_GRAMMAR) {
    this.#tokens = tokens;
    this.grammar = grammar;
  }

  // ── token helpers ──────────────────────────────────────────────────────────────────

  /** The next token (or the one `offset` tokens later), not consumed. Past the end: `eof`. */
  peek(offset = 0): Token {
    return this.#tokens[Math.min(this.#index + offset, this.#tokens.length - 1)]!;
  }

  /** Consumes and returns the next token (never moves past `eof`). */
  advance(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.#index++;
    return token;
  }

  /** Whether the next token is of `kind`. Consumes nothing. */
  check(kind: TokenKind): boolean {
    return this.peek().kind === kind;
  }

  /** Consumes the next token if it is of `kind`; says whether it did. */
  match(kind: TokenKind): boolean {
    if (!this.check(kind)) return false;
    this.advance();
    return true;
  }

  /**
   * Consumes and returns a token of `kind`, or fails with `expected <what>, found <token>`
   * at the next token. `what` names the token and, if it helps, where: `')' after arguments`.
   */
  expect(kind: TokenKind, what: string): Token {
    if (this.check(kind)) return this.advance();
    throw this.errorAtNext(`expected ${what}`);
  }

  /** The error `<expected>, found <next token>`, at the next token (to be thrown). */
  errorAtNext(expected: string): CompileError {
    const token = this.peek();
    return new CompileError(token.line, token.column, `${expected}, found ${describe(token)}`);
  }

  /** The error `detail` at `token` (to be thrown): `parser.errorAt(equals, 'cannot …')`. */
  errorAt(token: Token, detail: string): CompileError {
    return new CompileError(token.line, token.column, detail);
  }

  /** Fails unless every token has been consumed. */
  expectEnd(): void {
    if (!this.check('eof')) throw this.errorAtNext('expected end of input');
  }

  /** `;` at the end of a statement, or `expected ';' after statement, found X`. */
  expectSemicolon(): void {
    this.expect(';', `';' after statement`);
  }

  /**
   * Counts one more level of nesting; fails with `nested too deeply` (at the next token)
   * past `MAX_NESTING`, rather than overflow the JavaScript stack on `((((…))))`. Every
   * `enter()` is paired with a `leave()` once the nested construct is parsed.
   */
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

  /**
   * Marks `expr` as written in parentheses and returns it. Parentheses leave no node in the
   * tree, but `(x) = 1;` must still be refused: the assignment asks `isParenthesized`.
   */
  parenthesized(expr: Expr): Expr {
    this.#parenthesized.add(expr);
    return expr;
  }

  /** Whether `expr` was written in parentheses (see `parenthesized`). */
  isParenthesized(expr: Expr): boolean {
    return this.#parenthesized.has(expr);
  }

  // ── declarations ───────────────────────────────────────────────────────────────────

  /** `function*` up to the end of input, and the grammar's other declarations among them. */
  parseProgram(): Program {
    const functions: FunctionDecl[] = [];
    const declarations: Declaration[] = [];
    while (!this.check('eof')) {
      const rule = this.grammar.declarations?.get(this.peek().kind);
      if (rule !== undefined) {
        declarations.push(rule(this, this.advance()));
        continue;
      }
      if (!this.check('fn')) throw this.errorAtNext(`expected 'fn'`);
      functions.push(this.parseFunction());
    }
    return declarations.length === 0 ? { kind: 'program', functions } : { kind: 'program', functions, declarations };
  }

  /** `fn name(param[: type], …)[: type] { … }`. */
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

  /**
   * A written type: the grammar's type parselet for the next token (a name, in the core
   * language), or `expected type name, found X`.
   */
  parseType(): TypeNode {
    const rule = this.grammar.types.get(this.peek().kind);
    if (rule === undefined) throw this.errorAtNext('expected type name');
    return rule(this, this.advance());
  }

  // ── statements ─────────────────────────────────────────────────────────────────────

  /**
   * `{ statement* }`, one level of nesting. The caller has checked that the next token is
   * `{`. The block is at its `{` and ends at its `}`.
   */
  parseBlock(): Block {
    // TODO: enter() (a block is one level of nesting); consume the `{` (the block is at it);
    // parse statements until `}` or eof; expect `}` ("'}' after block"), which is where the
    // block ends; leave().
    return todo('Parser.parseBlock');
  }

  /** The block after the condition of `if` and `while`: `expected '{' after condition` if none. */
  parseBody(): Block {
    if (!this.check('{')) throw this.errorAtNext(`expected '{' after condition`);
    return this.parseBlock();
  }

  /**
   * One statement: a block; a statement whose keyword has a parselet in the grammar; or else
   * an expression, which is an assignment if `=` follows (to a target the grammar calls
   * assignable, at the `=`) and an expression statement if `;` does.
   */
  parseStatement(): Stmt {
    // TODO:
    //   `{`                 a nested block.
    //   a keyword with a parselet in this.grammar.statements: consume it and return what the
    //                       parselet makes of it.
    //   anything else       an expression (minimum power 0). If `=` follows, an assignment at
    //                       the `=`: refused first if the expression was parenthesized
    //                       (this.isParenthesized: "cannot assign to a parenthesized
    //                       expression"), then if this.grammar.assignable says no ("cannot
    //                       assign to this expression"), both at the `=`; then the
    //                       value and the `;`. Otherwise an expression statement (at the
    //                       expression's position) and its `;`.
    return todo('Parser.parseStatement');
  }

  // ── expressions ────────────────────────────────────────────────────────────────────

  /**
   * Parses an expression whose infix operators all have a binding power of at least
   * `minPower`, and stops before the first operator that binds more loosely. A whole
   * expression is `parseExpression(0)`. Counts one level of nesting.
   */
  parseExpression(minPower: number): Expr {
    // TODO: the Pratt loop.
    //   enter(); left = this.parsePrefix();
    //   loop: look the next token's kind up in this.grammar.infix; stop if there is no rule or
    //         its power is below minPower. If the rule is nonAssociative and the last operator
    //         this loop combined had the same power, fail at this operator: comparison 'OP'
    //         cannot follow 'PREV' without parentheses (OP and PREV are the tokens' texts).
    //         Otherwise consume the operator and left = rule.parse(this, left, operator).
    //   leave(); return left.
    return todo('Parser.parseExpression');
  }

  /**
   * The start of an expression: consumes the next token and hands it to the grammar's prefix
   * parselet for its kind, or fails with `expected expression, found X` if there is none.
   */
  parsePrefix(): Expr {
    // TODO: look the next token's kind up in this.grammar.prefix. With no rule, fail with
    // this.errorAtNext('expected expression'); else consume the token and hand it to the rule.
    return todo('Parser.parsePrefix');
  }
}
