/**
 * The shared programs of checks/programs, compiled by your chapters 05–06 and run as
 * machine code by your template JIT on this worker's architecture. Each must print exactly
 * what its `// expect:` comments say and end as they say, runtime errors and lines included.
 * (The programs that expect a compile error never reach the JIT and are left out; in a copy
 * staged for grading, where no program says so, such a program's compile error is its outcome,
 * reported for the runner to judge.)
 */
import { check } from '#harness/check.ts';
import { mayCompile, mayEndWith, programsThatCompile, programsUpTo, type Program } from '#harness/programs.ts';
import { checkPrograms, compiler, errors } from './support.ts';

const programs = programsUpTo(7).filter(mayCompile);
const calls = (p: Program) => p.features.includes('calls') || p.features.includes('recursion');
const branches = (p: Program) => /\b(if|while)\b|&&|\|\|/.test(p.source.replace(/\/\/.*$/gm, ''));
const endsNormally = (p: Program) => mayEndWith(p, 'normal');

/** `programs` without those that do not compile where that may be how they end (programsThatCompile). */
const compiling = (programs: readonly Program[]) => programsThatCompile(programs, (source) => compiler.compileSource(source), errors.CompileError);

check('straight-line programs: constants, locals, arithmetic, wrapping, shifts, comparisons', () => {
  checkPrograms(compiling(programs.filter((p) => endsNormally(p) && !calls(p) && !branches(p))));
}, { timeoutMs: 10000, emulatedTimeoutMs: 80000, hints: [
  'Each opcode becomes a template: load the operands from their stack slots, compute, store the result in the slot of the left operand.',
  'The operand stack depth is known at every instruction while compiling: the top of the stack is slot locals + depth - 1, a number fixed at compile time.',
  'For `sub`, the left operand is the deeper one (slot depth-2) and the right one is the top (slot depth-1).',
] });

check('programs with branches and loops: jump, jump_if_false, && and ||, scopes', () => {
  checkPrograms(compiling(programs.filter((p) => endsNormally(p) && !calls(p) && branches(p))));
}, { timeoutMs: 10000, emulatedTimeoutMs: 80000, hints: [
  'Give every bytecode offset a label and bind it when you reach that offset; a jump to offset t is a jump to label t, backward (already bound) or forward (bound later).',
  'A forward jump fixes the stack depth at its target: remember it, and start the target with that depth (after `a && b` the two paths meet with one value on the stack).',
  'jump_if_false pops: load the top slot, then branch if it is 0.',
] });

check('programs with calls: arguments in order, results, bool functions, falling off the end', () => {
  checkPrograms(compiling(programs.filter((p) => endsNormally(p) && calls(p) && !p.features.includes('recursion'))));
}, { timeoutMs: 10000, emulatedTimeoutMs: 80000, hints: [
  'The caller loads its arguments from its stack slots into the argument registers (masm.regs.args), in order; the callee stores them into its locals 0…n-1 right after its prologue.',
  'After the call, the result register holds the value: store it in the slot where the first argument was.',
  'Every function is at its own label in one buffer, so a call is masm.call(label of the callee), even to a function compiled later.',
] });

check('recursive programs: fib, ackermann, mutual recursion, 9999 calls deep', () => {
  checkPrograms(compiling(programs.filter((p) => endsNormally(p) && p.features.includes('recursion'))));
}, { timeoutMs: 10000, emulatedTimeoutMs: 120000, hints: [
  'Nothing may live in a register across a call except in callee-saved registers: keep every value in the frame\'s slots.',
  'Each call uses the machine stack for its frame; 10000 frames must fit, so keep frames small (locals + max stack slots).',
] });

check('runtime errors: division and remainder by zero, at the operator\'s line, after the output before it', () => {
  checkPrograms(compiling(programs.filter((p) => mayEndWith(p, 'runtime', 'division'))));
}, { timeoutMs: 10000, emulatedTimeoutMs: 80000, hints: [
  'Test the divisor before dividing: branch to an error path if it is 0 (AArch64\'s sdiv would silently give 0, x86-64\'s idiv would kill the process with SIGFPE).',
  'The error path calls the runtime\'s error callback with the kind, the function and the line (lineAt(fn, pc) of the div or mod), then leaves the frame.',
  'Every caller must notice that its callee failed and return too, all the way up: check the failed register after each call.',
] });

check('runtime errors: stack overflow in the calling function at the line of the call', () => {
  checkPrograms(compiling(programs.filter((p) => mayEndWith(p, 'runtime', 'stack overflow'))));
}, { timeoutMs: 10000, emulatedTimeoutMs: 120000, hints: [
  'Count calls in a callee-saved register: the entry stub sets how many may start, each call site checks it before calling.',
  'main is the first active call; the call that would be the 10001st fails, reported in the function that makes it, at the line of the call.',
  'Give the count back after the call returns, or a loop of calls would overflow.',
] });
