/**
 * The tiered VM in `npm run bench` (chapter 12).
 *
 * Two ways to run a program in the tiered VM, both on a heap of their own:
 *
 *   fresh    a new VM for each run, built, run once and thrown away: the program's total
 *            time with its warm-up (every compilation it does on the way) included, which is
 *            what `jot --tier auto` costs (on the one heap of the process, as in `jot`)
 *   warming  one VM whose `main` runs again and again: each run starts with the tiers the
 *            earlier runs reached, so the times of its runs are the warm-up curve
 *
 * Runs in bench.ts's inner process (the reference solutions of every chapter).
 */
import { compileSource } from '#ch06/compiler.ts';

// Specifiers in variables: the typecheck of chapters/ must not need chapter 11's and 12's files.
const chapter11 = '#ch11/';
const chapter12 = '#ch12/';
const { HEAP_JIT } = (await import(`${chapter11}jit-run.ts`)) as typeof import('../../solutions/11-garbage-collector/jit-run.ts');
const { TieredVM, TieredHeap } = (await import(`${chapter12}vm.ts`)) as typeof import('../../solutions/12-tiers-and-tools/vm.ts');

type Program = ReturnType<typeof compileSource>;

/** Compiles `source` at the level the tiered VM runs (chapter 11's). */
export function tieredProgram(source: string): Program {
  return compileSource(source, HEAP_JIT);
}

/** Runs `main` once and returns what it printed; a runtime error is thrown. */
function runMain(vm: InstanceType<typeof TieredVM>, out: string[]): string {
  out.length = 0;
  const ending = vm.run();
  if (ending.error !== undefined) throw new Error(`the tiered VM: runtime error: ${ending.error.message}`);
  return out.join('\n');
}

/**
 * The heap of every fresh run, made at the first: a `jot` process maps one heap when it
 * starts, and so does this process, once. A new heap per run would measure something else:
 * its 64 MiB mapping, a view of which V8 counts as external memory, makes V8 collect its
 * whole JavaScript heap at each new mapping ("external memory pressure"), and the bench's
 * process, with every tier's compiler loaded, has a large one (5 to 30 ms a run, more than
 * some programs' whole run in the optimizing tier). A run leaves only garbage behind (nothing
 * refers to its objects once its VM is gone), which the next run's first collection drops.
 */
let freshHeap: InstanceType<typeof TieredHeap> | undefined;

/** One run in a new VM, everything included but the heap's mapping: what a program costs from cold. */
export function runFresh(program: Program): string {
  freshHeap ??= new TieredHeap({});
  const out: string[] = [];
  const vm = new TieredVM(program, freshHeap, {}, (text) => out.push(text));
  try {
    return runMain(vm, out);
  } finally {
    vm.dispose();
  }
}

/** One VM kept across runs: `next()` runs `main` again in the tiers the earlier runs left; `dispose()` ends it. */
export function warmingVm(program: Program): { next: () => string; dispose: () => void } {
  let state: { vm: InstanceType<typeof TieredVM>; heap: InstanceType<typeof TieredHeap>; out: string[] } | undefined;
  return {
    next: () => {
      // Built on the first run, so the first iteration includes it, as a compiling tier's first includes its compilation.
      if (state === undefined) {
        const heap = new TieredHeap({});
        const out: string[] = [];
        state = { vm: new TieredVM(program, heap, {}, (text) => out.push(text)), heap, out };
      }
      return runMain(state.vm, state.out);
    },
    dispose: () => {
      state?.vm.dispose();
      state?.heap.dispose();
      state = undefined;
    },
  };
}
