/**
 * Chapter 10: running a program in the interpreter, with the outcome every tier reports in
 * the same shape (errors.ts): what it printed, and `main`'s result or the uncaught exception.
 */
import type { CompiledProgram } from '#ch06/bytecode.ts';
import { compileSource } from '#ch06/compiler.ts';
import { run } from '#ch06/interpreter.ts';
import { UncaughtException, type ExceptionOutcome } from './errors.ts';
import { EXCEPTIONS_LANGUAGE } from './language.ts';

/** Runs a program compiled at chapter 10's level. A compile error is thrown, not reported. */
export function interpretProgram(program: CompiledProgram): ExceptionOutcome {
  const output: string[] = [];
  try {
    const result = run(program, { print: (text) => output.push(text), level: EXCEPTIONS_LANGUAGE });
    return { output, result };
  } catch (error) {
    if (!(error instanceof UncaughtException)) throw error;
    const { message, payload, trace } = error;
    return { output, error: payload === undefined ? { message, trace } : { message, payload, trace } };
  }
}

/** Compiles `source` at chapter 10's level and runs it in the interpreter. */
export function runInterpreter(source: string): ExceptionOutcome {
  return interpretProgram(compileSource(source, EXCEPTIONS_LANGUAGE));
}
