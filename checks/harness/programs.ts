/**
 * The shared test programs of `checks/programs/*.jot`, used by every chapter that runs Jot
 * (06 the interpreter, 07 the template JIT, and the later tiers).
 *
 * Each program carries its expectations in comments, like Crafting Interpreters' tests:
 *
 *   print(1 + 2);          // expect: 3
 *   print(10 / 0);         // expect runtime error: division by zero at line 2
 *   // expect compile error: 4:11: '+' needs int operands, found int and bool
 *   // features: calls, recursion
 *   // since: 06
 *
 * `// expect: TEXT` lines give the printed lines in order (TEXT is the rest of the comment,
 * trailing spaces dropped). At most one `expect … error` line: a program that expects a
 * runtime error prints its expected lines first; a program that expects a compile error
 * prints nothing. `// features:` names what a program needs beyond the chapter 06 language,
 * so a chapter can leave out programs for features it does not have yet.
 *
 * `// since: NN` (exactly one per program, 05 to 12) names the chapter whose language the
 * program needs: 06 for the core language (the first chapter that runs programs), 10 for
 * exceptions, 11 for arrays and records. A chapter runs `programsUpTo(its own number)`. The
 * tag goes at the end of the file, so that adding it moves no line an expectation names.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportOutcome } from './check.ts';

export const PROGRAMS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'programs');

export type ErrorKind = 'compile' | 'runtime';

export interface ExpectedError {
  readonly kind: ErrorKind;
  /** The whole message: `division by zero at line 3`, `2:5: undefined variable 'x'`. */
  readonly message: string;
}

export interface Program {
  /** The file name without `.jot`: `fib`. */
  readonly name: string;
  readonly path: string;
  readonly source: string;
  readonly expectedOutput: readonly string[];
  readonly expectedError?: ExpectedError;
  readonly features: readonly string[];
  /**
   * The program's expectations were blanked in this copy (a copy staged for grading: see
   * EXPECTATIONS_HIDDEN): compareOutcome only reports its outcome, and the runner judges it.
   */
  readonly expectationsHidden?: true;
}

/**
 * A file in a folder of programs whose presence says that their `// expect …` comments were
 * blanked, as in the copy of the checks a student's graded code runs beside (the runner judges
 * the outcomes against its own copy, checks/harness/verdicts.ts).
 */
export const EXPECTATIONS_HIDDEN = 'EXPECTATIONS-HIDDEN';

/** A program read from a file of checks/programs: a `Program` with its `since` chapter. */
export interface ProgramFile extends Program {
  /** The chapter whose language the program needs (its `// since: NN` line). */
  readonly since: number;
}

/** The chapters a `// since:` line may name: the chapters that grow the language. */
export const FIRST_LANGUAGE_CHAPTER = 5;
export const LAST_LANGUAGE_CHAPTER = 12;

/** A program file whose comments are malformed: the message names the file and line. */
export class ProgramFileError extends Error {
  override readonly name = 'ProgramFileError';
}

/** What running a program did: the lines it printed and how it ended. */
export interface Outcome {
  readonly output: readonly string[];
  readonly error?: ExpectedError;
}

/** Reads one program and the expectations in its comments. */
export function parseProgram(path: string, source: string): ProgramFile {
  const expectedOutput: string[] = [];
  let expectedError: ExpectedError | undefined;
  const features: string[] = [];
  let since: number | undefined;
  source.split('\n').forEach((text, i) => {
    const comment = /\/\/\s*(.*)$/.exec(text)?.[1]?.trimEnd();
    if (comment === undefined) return;
    let m: RegExpExecArray | null;
    if ((m = /^expect:\s?(.*)$/.exec(comment))) {
      expectedOutput.push(m[1]!);
    } else if ((m = /^expect (compile|runtime) error:\s*(.*)$/.exec(comment))) {
      if (expectedError) throw new Error(`${path}:${i + 1}: a second 'expect … error' line`);
      expectedError = { kind: m[1] as ErrorKind, message: m[2]! };
    } else if ((m = /^features:\s*(.*)$/.exec(comment))) {
      features.push(...m[1]!.split(',').map((f) => f.trim()).filter((f) => f !== ''));
    } else if ((m = /^since:\s*(.*)$/.exec(comment))) {
      if (since !== undefined) throw new ProgramFileError(`${path}:${i + 1}: a second '// since:' line`);
      since = sinceChapter(m[1]!, `${path}:${i + 1}`);
    }
  });
  if (since === undefined) {
    throw new ProgramFileError(`${path}: no '// since: NN' line (the chapter whose language the program needs; 06 for the core language)`);
  }
  if (expectedError?.kind === 'compile' && expectedOutput.length > 0) {
    throw new Error(`${path}: a program that expects a compile error cannot expect output`);
  }
  const name = basename(path).replace(/\.jot$/, '');
  return { name, path, source, expectedOutput, ...(expectedError ? { expectedError } : {}), features, since };
}

/** The chapter number of a `// since:` line's text (`06`), or an error at `where`. */
function sinceChapter(text: string, where: string): number {
  const chapter = /^\d{2}$/.test(text) ? Number(text) : NaN;
  if (!(chapter >= FIRST_LANGUAGE_CHAPTER && chapter <= LAST_LANGUAGE_CHAPTER)) {
    throw new ProgramFileError(
      `${where}: '// since: ${text}' should name a chapter from 0${FIRST_LANGUAGE_CHAPTER} to ${LAST_LANGUAGE_CHAPTER}, in two digits`,
    );
  }
  return chapter;
}

/**
 * Whether `program` may end as `ending` (a runtime error of the class `runtimeClass` starts
 * with, when given): what its expectations say, for a check to choose its programs by. In a
 * copy staged for grading (EXPECTATIONS_HIDDEN) every expectation is blanked, so there any
 * program may end any way, and is chosen for each: the runner judges the outcomes of the
 * programs the reference's run chose (checks/harness/verdicts.ts), and the others' are
 * reported for nothing. Only what the text shows narrows the choice: a division by zero needs
 * a `/` or `%` in the code, a stack overflow a call. A program that does not compile ends
 * there, whichever way a check chose it: it costs little (see reportedCompileError).
 */
export function mayEndWith(program: Program, ending: 'normal' | 'runtime' | 'compile', runtimeClass?: string): boolean {
  if (program.expectationsHidden) {
    if (ending === 'runtime' && runtimeClass?.startsWith('division')) return /[/%]/.test(program.source.replace(/\/\/.*$/gm, ''));
    if (ending === 'runtime' && runtimeClass?.startsWith('stack overflow')) return program.features.includes('calls') || program.features.includes('recursion');
    return true;
  }
  const kind = program.expectedError?.kind ?? 'normal';
  return kind === ending && (runtimeClass === undefined || program.expectedError!.message.startsWith(runtimeClass));
}

/**
 * Whether `program` may compile, and so run: for a check of what compiled programs do. In a
 * copy staged for grading every program may (mayEndWith), and a check that compiles one that
 * does not reports its compile error as its outcome (reportedCompileError).
 */
export function mayCompile(program: Program): boolean {
  return mayEndWith(program, 'normal') || mayEndWith(program, 'runtime');
}

/**
 * For a check that compiles programs: whether `error`, thrown while `program` was compiled,
 * is a compile error (an instance of `compileError`) the program may end with (mayEndWith).
 * If so it is reported as the program's outcome, under its name, for the runner to judge
 * against the grader's copy of the program's file, and the check goes on without the program;
 * else the error is the check's to fail with. In a staged copy, where a check cannot tell the
 * programs meant not to compile, this is how it passes over them.
 */
export function reportedCompileError(program: Program, error: unknown, compileError: abstract new (...args: never[]) => Error): boolean {
  if (!(error instanceof compileError) || !mayEndWith(program, 'compile')) return false;
  reportOutcome(program.name, { output: [], error: { kind: 'compile', message: error.message } });
  return true;
}

/**
 * `programs` without those that may end with a compile error and do, for a check whose
 * helpers run programs and expect them to compile. Only in a copy staged for grading, where
 * any program may, is each compiled first with `compile` (it costs little); a compile error
 * is then reported as the program's outcome (reportedCompileError) and the program left out.
 */
export function programsThatCompile<P extends Program>(programs: readonly P[], compile: (source: string) => unknown, compileError: abstract new (...args: never[]) => Error): P[] {
  return programs.filter((program) => {
    if (!program.expectationsHidden) return true;
    try {
      compile(program.source);
      return true;
    } catch (error) {
      return !reportedCompileError(program, error, compileError);
    }
  });
}

/** Every program in `dir` (default: checks/programs), sorted by name. */
export function loadPrograms(dir: string = PROGRAMS_DIR): ProgramFile[] {
  const hidden = existsSync(join(dir, EXPECTATIONS_HIDDEN));
  return readdirSync(dir)
    .filter((file) => file.endsWith('.jot'))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      const program = parseProgram(path, readFileSync(path, 'utf8'));
      return hidden ? { ...program, expectationsHidden: true as const } : program;
    });
}

/**
 * The programs whose language chapter `chapter` has: those with `since` at most `chapter`,
 * sorted by name. Chapter 07 runs `programsUpTo(7)`; chapter 10 adds the exception programs.
 */
export function programsUpTo(chapter: number, dir: string = PROGRAMS_DIR): ProgramFile[] {
  return loadPrograms(dir).filter((program) => program.since <= chapter);
}

/**
 * Compares what a program did with what it expects. Returns `null` when they agree, or a
 * report for a person: the first differing line and a line-by-line diff.
 */
export function compareOutcome(program: Program, actual: Outcome): string | null {
  // When work is graded, the runner judges this outcome itself (verdicts.ts).
  reportOutcome(program.name, actual);
  if (program.expectationsHidden) return null;
  const problems: string[] = [];
  const expectedEnd = program.expectedError ? `${program.expectedError.kind} error: ${program.expectedError.message}` : 'normal exit';
  const actualEnd = actual.error ? `${actual.error.kind} error: ${actual.error.message}` : 'normal exit';
  if (expectedEnd !== actualEnd) {
    problems.push(`expected the program to end with\n    ${expectedEnd}\n  but it ended with\n    ${actualEnd}`);
  }
  if (!sameLines(program.expectedOutput, actual.output)) {
    problems.push(`printed output differs:\n${diffLines(program.expectedOutput, actual.output)}`);
  }
  return problems.length === 0 ? null : `${program.name}.jot: ${problems.join('\n')}`;
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

/**
 * A line diff (longest common subsequence), `  ` for kept, `- ` for expected only, `+ ` for
 * actual only. Long runs of agreeing lines are elided.
 */
export function diffLines(expected: readonly string[], actual: readonly string[]): string {
  const n = expected.length;
  const m = actual.length;
  if (n * m > 4_000_000) {
    const i = expected.findIndex((line, k) => line !== actual[k]);
    return `  (too long to diff) first difference at line ${i + 1}: expected ${JSON.stringify(expected[i])}, found ${JSON.stringify(actual[i])}`;
  }
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = expected[i] === actual[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const rows: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      rows.push(`            ${expected[i]}`);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      rows.push(`  expected  ${expected[i]}`);
      i++;
    } else {
      rows.push(`  actual    ${actual[j]}`);
      j++;
    }
  }
  // Keep two lines of context around each change.
  const changed = rows.map((row) => !row.startsWith('            '));
  const keep = rows.map((_, k) => changed.slice(Math.max(0, k - 2), k + 3).some(Boolean));
  const shown: string[] = [];
  rows.forEach((row, k) => {
    if (keep[k]) shown.push(row);
    else if (keep[k - 1] || k === 0) shown.push('            …');
  });
  return shown.join('\n');
}
