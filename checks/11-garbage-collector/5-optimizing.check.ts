/**
 * Chapter 11, fifth part: the heap in the optimizing tier. It compiles every function of the
 * heap programs (only a function with a `try` goes to the template compiler, as chapter 10
 * decided), under --gc-stress and --verify-heap, and agrees with the interpreter; so do random
 * heap programs. Its references live across a GC point sit in stack slots that the point's
 * map names, never in a register, and no derived pointer lives across one: the rule is
 * checked on every function before its code is emitted, and it can fail.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode } from '#harness/check.ts';
import { mayCompile, programsUpTo, reportedCompileError, type Program } from '#harness/programs.ts';
import { randomProgram } from '#harness/random-programs.ts';
import { runInterpreter as referenceRun } from '../../solutions/11-garbage-collector/run.ts';
import { chapterModule, compareWithProgram, seen as observed, referenceRunOnce, runOptimizedOnce, traceText, type HeapRun } from './support.ts';

type JitRunModule = typeof import('../../solutions/11-garbage-collector/jit-run.ts');
type OptHeapModule = typeof import('../../solutions/11-garbage-collector/opt-heap.ts');

const jitRun = await learnerCode(chapterModule<JitRunModule>('jit-run.ts'));
const optHeap = await learnerCode(chapterModule<OptHeapModule>('opt-heap.ts'));
const compiler = await learnerCode(import('#ch06/compiler.ts'));
const optimizing = await learnerCode(import('#ch09/jit.ts'));
const allocation = await learnerCode(import('#ch09/allocate.ts'));
const masms = await learnerCode(import('#ch04/masm.ts'));
const codegen = await learnerCode(import('#ch09/codegen.ts'));

/** How a run ended, as text to compare: the printed lines, then the error and its trace. */
function ending(run: HeapRun): string {
  return [...run.output, run.error === undefined ? '(normal exit)' : `${run.error.message}\n${traceText(run.error.trace)}`].join('\n');
}

/** The functions of `source` whose body has a `try` (comments left out): chapter 10 leaves them to the template compiler. */
function functionsWithTry(source: string): number {
  const code = source.replace(/\/\/.*$/gm, '');
  return code.split(/^fn\s/m).slice(1).filter((fn) => /\btry\b/.test(fn)).length;
}

const STRESS = { stress: true, verify: true } as const;
const heapPrograms = programsUpTo(11).filter((p) => p.since === 11 && mayCompile(p));
const errors = await learnerCode(import('#ch05/errors.ts'));

/**
 * Whether `program` compiles, or else may not (in a copy staged for grading, any program may):
 * its compile error is then reported as its outcome, for the runner to judge, and the check
 * leaves it out. Only a staged copy compiles first; elsewhere a compile error fails the check.
 */
function compiles(program: Program): boolean {
  if (!program.expectationsHidden) return true;
  try {
    compiler.compileSource(program.source, jitRun.HEAP_JIT);
    return true;
  } catch (error) {
    return !reportedCompileError(program, error, errors.CompileError);
  }
}

check('the optimizing tier compiles every function of the heap programs (a function with a try aside) and, under --gc-stress --verify-heap, agrees with the interpreter', () => {
  assert.ok(heapPrograms.length >= 10, `only ${heapPrograms.length} heap programs found`);
  const reports: string[] = [];
  let declined = 0;
  let withTry = 0;
  let collections = 0;
  for (const program of heapPrograms.filter(compiles)) {
    process.stderr.write(`running ${program.name}.jot (optimizing, --gc-stress --verify-heap)\n`);
    const got = runOptimizedOnce(program.source, STRESS);
    const expected = ending(referenceRunOnce(program.source));
    const report = compareWithProgram(program, got);
    if (report !== null) reports.push(report);
    else if (ending(got) !== expected) reports.push(`${program.name}.jot: expected\n${expected}\ngot\n${ending(got)}`);
    const tries = functionsWithTry(program.source);
    observed(`${program.name}: declines only the functions with a try`, got.declined === tries);
    if (got.declined !== tries) reports.push(`${program.name}.jot: the optimizing tier declined ${got.declined} functions; only the ${tries} with a try should go to the template compiler`);
    declined += got.declined;
    withTry += tries;
    collections += got.heap.collections;
  }
  process.stderr.write(`the optimizing tier declined ${declined - withTry} functions of ${heapPrograms.length} heap programs (and ${withTry} with a try, as chapter 10 does)\n`);
  assert.ok(reports.length === 0, `${reports.length} of ${heapPrograms.length} programs went wrong:\n\n${reports.join('\n\n')}`);
  assert.ok(observed('more than 1000 collections', collections > 1000), `the programs collected ${collections} times under --gc-stress: expected one collection per allocation`);
}, { timeoutMs: 240000, hints: [
  'A function the optimizing tier declines says why (compileOptimized\'s `declined`): an IR operation without code, or a rule at GC points broken.',
  'Under --gc-stress every allocation moves every object: an optimized frame\'s reference must be in a stack slot its GC point\'s map names, or it goes stale.',
] });

check('random heap programs in the optimizing tier, on a small heap collecting at every allocation, do what the interpreter does and decline no function without a try', (t) => {
  const reports: string[] = [];
  let compiled = 0;
  for (let i = 0; i < 40; i++) {
    const source = randomProgram(t.random, 11);
    const expected = ending(referenceRun(source));
    const got = jitRun.runOptimized(source, { semispaceBytes: 64 * 1024, ...STRESS });
    observed(`random program ${i + 1}`, ending(got));
    observed(`random program ${i + 1}: declines only the functions with a try`, got.declined === functionsWithTry(source));
    if (ending(got) !== expected) reports.push(`random program ${i + 1}:\n${source}\nexpected:\n${expected}\ngot:\n${ending(got)}`);
    const tries = functionsWithTry(source);
    if (got.declined !== tries) reports.push(`random program ${i + 1}: ${got.declined} functions declined, ${tries} with a try:\n${source}`);
    compiled += (source.match(/^fn\s/gm) ?? []).length - got.declined;
  }
  assert.ok(reports.length === 0, `${reports.length} reports for 40 random programs; the first:\n\n${reports[0]}`);
  assert.ok(observed('at least 40 functions optimized', compiled >= 40), `only ${compiled} functions of the random programs were optimized`);
}, { timeoutMs: 180000, hints: [
  'Random programs keep arrays and records in locals across calls and allocations: in optimized code each such reference is in a stack slot named by the map of every GC point it lives across.',
] });

const ALLOCATING_LOOP = `struct Cell { value: int, next: Cell }

fn fill(n: int): Cell {
  let list: Cell = null;
  let i = 0;
  while i < n {
    list = new Cell { value: i, next: list };
    let a = new [int](i % 7 + 1);
    a[len(a) - 1] = i;
    i = i + 1;
  }
  return list;
}

fn total(list: Cell): int {
  let sum = 0;
  while list != null {
    sum = sum + list.value;
    list = list.next;
  }
  return sum;
}

fn main() {
  print(total(fill(5000)));
  return 0;
}
`;

check('the optimizing tier allocates inline: 10,000 allocations on a heap with room make no call into TypeScript', () => {
  const run = jitRun.runOptimized(ALLOCATING_LOOP, {});
  assert.equal(observed('error', run.error?.message), undefined, run.error?.message);
  assert.equal(observed('output', run.output), ['12497500']);
  assert.is(observed('declined', run.declined), 0, 'every function of the loop should be optimized');
  assert.ok(observed('at least 10,000 objects counted', run.heap.objectsAllocated >= 10_000), `the heap counted ${run.heap.objectsAllocated} objects: the fast path's objects are not counted`);
  assert.ok(observed('at most one call into TypeScript', run.callbacks <= 1), `the run called into TypeScript ${run.callbacks} times for 1 print: allocation leaves the machine code on its fast path`);
}, { hints: ['The fast path: top from the heap\'s context block, plus the size, compared with the limit; then the new top and the header. No call.'] });

check('an optimized frame\'s errors are chapter 10\'s exceptions: a bounds error caught, a null access uncaught with its trace', () => {
  const source = `struct P { x: int }

fn at(a: [int], i: int): int {
  return a[i];
}

fn field(p: P): int {
  return p.x;
}

fn guarded(a: [int], i: int): int {
  try {
    return at(a, i);
  } catch e {
    return e;
  }
}

fn main() {
  let a = new [int](3);
  print(guarded(a, 3));
  print(guarded(a, -1));
  let p: P = null;
  print(field(p));
  return 0;
}
`;
  const expected = referenceRun(source);
  const got = jitRun.runOptimized(source, STRESS);
  assert.equal(observed('ending', ending(got)), ending(expected));
  assert.is(observed('declined', got.declined), 1, 'only guarded (it has a try) goes to the template compiler');
});

check('the rule at GC points can fail: without the heap\'s allocation options a reference sits in a register across a call, and a derived pointer is refused', () => {
  const program = compiler.compileSource(ALLOCATING_LOOP, jitRun.HEAP_JIT);
  const level = jitRun.HEAP_JIT.jit;
  const extension = codegen.optimizingExtension(level)!;
  const seen: { ir: Parameters<OptHeapModule['gcPointProblems']>[0]; roots: number }[] = [];
  const broken: string[] = [];
  const compiled = optimizing.compileOptimized(program, undefined, {
    level,
    onAllocated: (ir, details) => {
      const problems = optHeap.gcPointProblems(ir, details.allocated);
      if (problems.length > 0) broken.push(`${ir.name} broke the rules yet was compiled: ${problems.join('; ')}`);
      const types = new Map(ir.blocks.flatMap((b) => b.insts.map((inst) => [inst.id, inst.type] as const)));
      const roots = details.allocated.blocks.flatMap((mb) => mb.insts).filter((mi) => optHeap.rootSlots(mi, details.allocated, types).length > 0);
      seen.push({ ir, roots: roots.length });
    },
  });
  compiled.jit.dispose();
  assert.ok(observed('no function that broke the rules at GC points was compiled', broken.length === 0), broken.join('\n'));
  assert.equal(observed('declined', compiled.declined), [], 'no function of the loop should be declined');
  assert.ok(observed('some GC point of fill has a reference in a slot', seen.some((s) => s.ir.name === 'fill' && s.roots > 0)), 'fill keeps `list` across its allocations: some GC point of fill should have a reference in a slot');
  // The same function allocated without the rule: `list` crosses an allocation in a callee-saved register.
  const fill = seen.find((s) => s.ir.name === 'fill')!.ir;
  const masm = masms.createMacroAssembler(compiled.jit.arch);
  const registers = allocation.allocatorRegisters(masm);
  const loose = allocation.allocateFunction(fill, registers, { callingOps: extension.allocation!.callingOps! });
  const problems = optHeap.gcPointProblems(fill, loose.allocated);
  assert.ok(observed('a reference in a register across a GC point is found', problems.some((p) => /reference v\d+ is live across a GC point in r\d+/.test(p))), `expected a reference in a register across a GC point, found:\n${problems.join('\n')}`);
  // A derived pointer live across a GC point is refused wherever it is.
  const refs = fill.blocks.flatMap((b) => b.insts).filter((inst) => inst.type === optHeap.REF && inst.op !== 'const');
  const derived = { ...fill, blocks: fill.blocks.map((b) => ({ ...b, insts: b.insts.map((inst) => (refs.includes(inst) ? { ...inst, type: optHeap.DERIVED } : inst)) })) };
  const strict = allocation.allocateFunction(derived, registers, extension.allocation);
  assert.ok(observed('a derived pointer across an allocation is found', optHeap.gcPointProblems(derived, strict.allocated).some((p) => /derived pointer live across a GC point/.test(p))), 'a derived pointer live across an allocation should be reported');
  // And what was compiled runs: a shorter loop, collecting at every allocation.
  const run = jitRun.runOptimized(ALLOCATING_LOOP.replace('fill(5000)', 'fill(300)'), STRESS);
  assert.equal(observed('output', run.output), ['44850'], run.error?.message);
}, { timeoutMs: 60000 });

type JitLevelModule = typeof import('../../solutions/11-garbage-collector/jit-level.ts');
type HeapModule = typeof import('../../solutions/11-garbage-collector/heap.ts');
const jitLevel = await learnerCode(chapterModule<JitLevelModule>('jit-level.ts'));
const heapModule = await learnerCode(chapterModule<HeapModule>('heap.ts'));
const chapter10 = await learnerCode(import('#ch10/jit-run.ts'));

check('with only 2 or 3 registers (operands and references spilled everywhere) the heap programs still agree with the interpreter under --gc-stress --verify-heap', () => {
  const reports: string[] = [];
  const programs = heapPrograms.filter((p) => !p.name.includes('out_of_memory') && compiles(p));
  for (const registers of [2, 3]) {
    for (const program of programs) {
      process.stderr.write(`running ${program.name}.jot (optimizing, ${registers} registers)\n`);
      const compiled = optimizing.compileOptimized(compiler.compileSource(program.source, jitRun.HEAP_JIT), undefined, { level: jitRun.HEAP_JIT.jit, registers });
      const heap = new heapModule.Heap({ semispaceBytes: 256 * 1024, ...STRESS });
      try {
        jitLevel.useHeap(compiled.jit, heap);
        const got = chapter10.outcomeOf(compiled.jit);
        const expected = ending(referenceRunOnce(program.source));
        const text = ending({ output: got.output, ...(got.error === undefined ? {} : { error: got.error }) });
        observed(`${program.name} with ${registers} registers`, text);
        observed(`${program.name} with ${registers} registers: declines only the functions with a try`, compiled.declined.length === functionsWithTry(program.source));
        if (text !== expected) reports.push(`${program.name}.jot with ${registers} registers: expected\n${expected}\ngot\n${text}`);
        const declined = compiled.declined.length - functionsWithTry(program.source);
        if (declined !== 0) reports.push(`${program.name}.jot with ${registers} registers: declined ${compiled.declined.map((d) => `${d.name} (${d.reason})`).join(', ')}`);
      } finally {
        compiled.jit.dispose();
        heap.dispose();
      }
    }
  }
  assert.ok(reports.length === 0, `${reports.length} runs went wrong:\n\n${reports.join('\n\n')}`);
}, { timeoutMs: 240000, hints: [
  'With few registers every operand of a heap operation may come from a stack slot: the lowering has only the two scratch registers (and, inside an allocation, the argument registers) to work with.',
] });
