/**
 * Chapter 05: the one error class of the front end.
 *
 * Everything wrong with a program that can be found before it runs is a `CompileError`:
 * an unexpected character, a missing `)`, an integer literal that does not fit in 64 bits,
 * and (from chapter 06 on) an undefined variable or a type mismatch. Its message always
 * starts with the position, so a learner's editor and the checks can both read it:
 *
 *   3:14: expected ')' after arguments, found '{'
 */
export class CompileError extends Error {
  override readonly name = 'CompileError';
  /** 1-based line of the offending token or expression. */
  readonly line: number;
  /** 1-based column (in characters; a tab counts as one). */
  readonly column: number;
  /** The message without the position: `expected ')' after arguments, found '{'`. */
  readonly detail: string;

  constructor(line: number, column: number, detail: string) {
    super(`${line}:${column}: ${detail}`);
    this.line = line;
    this.column = column;
    this.detail = detail;
  }
}
