/**
 * Chapter 12: the REPL's evaluator, apart from the terminal (repl.ts reads the lines): one
 * session of definitions, variables and commands, fed one whole input at a time.
 *
 *   jot> fn sq(n) { return n * n; }
 *   defined fn sq(n)
 *   jot> let k = sq(12);
 *   jot> k + 1
 *   145
 *   jot> :jit sq
 *   sq: optimizing tier, 0x8 bytes of x64 code
 *
 * How an input runs. Jot has no top level but declarations, so every run is a whole program:
 * the session's declarations (functions, records), then a `main` written for this input:
 *
 *   fn main() {
 *     let k: int = 144;        the variables kept from earlier inputs, one a line
 *     {
 *       k + 1 …                the input (an expression becomes print(…);)
 *       print(k);              each variable in scope, read back after the run
 *     }
 *     return -7046029254386353131;   a mark: the input did not return early
 *   }
 *
 * The declarations come first, in the order they were first defined, and main last, so that
 * a function's bytecode (its lines included) changes only when it, or a declaration above
 * it, is redefined.
 *
 * The programs run in ONE tiered VM for the whole session (session-vm.ts): every function
 * starts in the interpreter, keeps its counters from input to input and is compiled when
 * hot, but for those `:jit` holds in a tier. A definition is loaded into the VM at once: a
 * redefined function goes back to the interpreter (and says so when it had compiled code),
 * callers reach the new body at their next call through the entry table, and compiled code
 * that depended on the old definition (a caller of a function whose signature changed) is
 * dropped too.
 *
 * Variables of type int and bool live between inputs as their values; arrays and records
 * live only in the input that makes them (no later input can reach them). A redefinition
 * replaces a function; when its signature changed, every other function is type-checked
 * again, and a caller that no longer checks is set aside (it says why) until it is redefined.
 */
import { hostArch, type Arch } from '#native/arch.ts';
import type { TierOptions } from './options.ts';
import { SessionVM, type LoadReport } from './session-vm.ts';
import type { CompiledProgram, JitProgram, VmModules } from './vm-modules.ts';

/** Where a function runs: tiered (it starts in the interpreter and moves on when hot), or held in one tier. */
export type ReplTier = 'auto' | 'interp' | 'baseline' | 'opt';
export const REPL_TIERS: readonly ReplTier[] = ['auto', 'interp', 'baseline', 'opt'];

/** What main returns when the input ran to its end (an unlikely value of no meaning). */
const COMPLETED = -7046029254386353131n;

/** One top-level declaration of the session, as typed. */
interface Declaration {
  readonly name: string;
  readonly kind: 'fn' | 'struct';
  readonly text: string;
  /** `fn sq(n): int` or `struct Point`, as written. */
  readonly header: string;
}

/** A kept variable: its type and its value as Jot source. */
interface Variable {
  readonly type: 'int' | 'bool';
  readonly value: string;
}

/** A program made for one run, and which of its lines came from where. */
interface Assembled {
  readonly source: string;
  /** The first line of the input in `source` (1-based), and how many lines it has. */
  readonly inputLine: number;
  readonly inputLines: number;
  /** The first line of each report line (`print(v);`), by variable. */
  readonly reportLines: ReadonlyMap<number, string>;
  /** Each declaration's lines. */
  readonly ranges: readonly { readonly name: string; readonly first: number; readonly last: number }[];
}

/** An input's program, and the variables its run reads back (`kept`) or cannot (`dropped`). */
interface CompiledInput {
  readonly program: CompiledProgram;
  readonly assembled: Assembled;
  readonly kept: readonly string[];
  readonly dropped: readonly string[];
}

/**
 * A runtime error's message with the lines of the whole program made the input's own: `line 5`
 * of the input's program is the input's `line 1`, a line of a declaration is `line 2 of f`.
 */
function inInputLines(message: string, assembled: Assembled): string {
  return message
    .replace(/\bline (\d+)/g, (whole, digits: string) => {
      const line = Number(digits);
      if (line >= assembled.inputLine && line < assembled.inputLine + assembled.inputLines) return `line ${line - assembled.inputLine + 1}`;
      const range = assembled.ranges.find((r) => line >= r.first && line <= r.last);
      return range === undefined ? whole : `line ${line - range.first + 1} of ${range.name}`;
    })
    .replace(/\bat main \(/g, 'at the input (');
}

/** How a run of an input ended. */
interface RunResult {
  readonly output: string[];
  readonly result?: bigint;
  readonly error?: string;
}

export interface ReplOptions {
  /** The architecture the compiled tiers make code for (this process's). */
  readonly arch?: Arch;
  /** Says where this process runs, for `:arch`. */
  readonly describeHost?: () => string;
  /** The tiered VM's thresholds (options.ts's defaults when left out). */
  readonly thresholds?: Pick<TierOptions, 'tierUpCalls' | 'tierUpLoops' | 'tierUpOptimizedCalls'>;
  /** Function slots of the session's first VM (session-vm.ts's FIRST_CAPACITY when left out). */
  readonly capacity?: number;
}

/** The tiered VM's name of the tier `:jit` holds a function in (undefined: the counters decide). */
const HELD = { auto: undefined, interp: 'interpreter', baseline: 'baseline', opt: 'optimized' } as const;

/** Whether `text` is a whole input: every `{`, `(` and `[` outside comments is closed. */
export function inputIsComplete(text: string): boolean {
  let depth = 0;
  for (const line of text.split('\n')) {
    const code = line.replace(/\/\/.*$/, '');
    for (const c of code) {
      if (c === '{' || c === '(' || c === '[') depth++;
      else if (c === '}' || c === ')' || c === ']') depth--;
    }
  }
  return depth <= 0;
}

/** An error of the REPL's own making, for the person at the keyboard. */
class ReplError extends Error {
  override readonly name = 'ReplError';
}

export const REPL_HELP = `Type Jot: a function or record declaration (fn, struct) defines or redefines it; statements
run at once (tiered: each function starts in the interpreter and is compiled when hot), and
the variables they declare (int and bool) are kept; an expression prints its value. An open
{, ( or [ continues on the next line.
  :bytecode [f]        chapter 06's bytecode of f (or of every function)
  :ir f                chapter 08's SSA IR of f after the optimizer
  :disasm f [tier]     f's machine code (baseline or opt), the compiler's comments beside capstone's disassembly
  :jit f [tier]        hold f in a tier from now on: opt (the default), baseline, interp; auto: tiered again
  :trace on|off        show the tiered VM's promotions as functions get hot
  :time expr           expr in the interpreter, the baseline and optimizing tiers and tiered: times side by side
  :list                the declarations, their tiers, and the variables
  :forget name         drop a declaration or a variable
  :arch                the architecture the code is made for and runs on
  :help                this text
  :quit                leave (also Ctrl-D)`;

export class ReplSession {
  readonly #vm: VmModules;
  readonly #arch: Arch;
  readonly #describeHost: () => string;
  readonly #declarations = new Map<string, Declaration>();
  /** Functions that stopped type-checking after a redefinition, with why. */
  readonly #broken = new Map<string, string>();
  readonly #variables = new Map<string, Variable>();
  /** The tier each function was sent to with `:jit`. */
  readonly #tiers = new Map<string, ReplTier>();
  /** Show the tiered VM's promotions (`:trace on`). */
  #traceTiers = false;
  /** How the last input ran: interpreted, compiled (each function in its tier) or tiered (each function's tier at the end). */
  lastRun: { readonly how: 'interpreted' | 'compiled' | 'tiered'; readonly tiers: Readonly<Record<string, string>> } | undefined;
  /** The session's one tiered VM (when chapter 12 is there), made at the first definition or input. */
  readonly #sessionVm: SessionVM | undefined;
  /** Where the running input's output goes. */
  #output: string[] = [];

  constructor(vm: VmModules, options: ReplOptions = {}) {
    this.#vm = vm;
    this.#arch = options.arch ?? hostArch();
    this.#describeHost = options.describeHost ?? (() => `${process.arch} (Node.js ${process.version})`);
    this.#sessionVm = vm.tiered === undefined ? undefined : new SessionVM({
      tiered: vm.tiered,
      opcodes: vm.language.opcodes,
      tierOf: (name) => HELD[this.tierOf(name)],
      print: (text) => this.#output.push(text),
      trace: (line) => {
        if (this.#traceTiers) this.#output.push(line);
      },
      ...(options.thresholds ? { thresholds: options.thresholds } : {}),
      ...(options.capacity ? { capacity: options.capacity } : {}),
    });
  }

  /** The session's tiered VM, to look into (undefined without chapter 12). */
  get sessionVm(): SessionVM | undefined {
    return this.#sessionVm;
  }

  /** Unmaps the session's VM and heap. */
  dispose(): void {
    this.#sessionVm?.dispose();
  }

  /** Evaluates one whole input; returns the lines to show (the program's output, values, notes, errors). */
  evaluate(input: string): string[] {
    const text = input.trim();
    if (text === '') return [];
    try {
      if (text.startsWith(':')) return this.#command(text);
      if (/^(fn|struct)\b/.test(text)) return this.#define(input);
      return this.#statements(input);
    } catch (error) {
      if (error instanceof ReplError) return [`error: ${error.message}`];
      throw error;
    }
  }

  /** The tier `name` runs in (tiered unless `:jit` said otherwise). */
  tierOf(name: string): ReplTier {
    return this.#tiers.get(name) ?? 'auto';
  }

  // ---- declarations

  #define(input: string): string[] {
    const pieces = this.#split(input);
    const mainPiece = pieces.find((p) => p.kind === 'fn' && p.name === 'main');
    if (mainPiece) throw new ReplError(`main is the REPL's own (each input runs in it): type statements instead, or name the function otherwise`);
    const next = new Map(this.#declarations);
    for (const piece of pieces) next.set(piece.name, piece);
    const newNames = new Set(pieces.map((p) => p.name));
    const { broken, program } = this.#typeCheck(next, newNames);
    const lines: string[] = [];
    for (const piece of pieces) {
      const old = this.#declarations.get(piece.name);
      const verb = old === undefined ? 'defined' : old.header === piece.header ? 'redefined' : `redefined (was ${old.header})`;
      lines.push(`${verb} ${piece.header}`);
      // Code compiled for the old body is gone with it: the next run compiles the new one in the same tier.
    }
    for (const [name, why] of broken) if (!this.#broken.has(name)) lines.push(`${name} no longer type-checks: ${why} (redefine it; until then it cannot be called)`);
    for (const name of this.#broken.keys()) if (!broken.has(name) && next.has(name)) lines.push(`${name} type-checks again`);
    this.#declarations.clear();
    for (const [name, d] of next) this.#declarations.set(name, d);
    this.#broken.clear();
    for (const [name, why] of broken) this.#broken.set(name, why);
    lines.push(...this.#load(program));
    return lines;
  }

  /**
   * Loads `program` into the session's VM; returns what the person should know: compiled
   * code that went back to the interpreter (or was compiled again, held by `:jit`), a new VM.
   */
  #load(program: CompiledProgram): string[] {
    if (this.#sessionVm === undefined) return [];
    const report: LoadReport = this.#sessionVm.load(program);
    const lines: string[] = [];
    if (report.newVm?.carried === true) lines.push(`(the session's VM grows: a bigger one takes its place, ${report.newVm.why}; each function keeps its tier and counters)`);
    else if (report.newVm !== undefined) lines.push(`(the session's VM starts afresh, every function in the interpreter: ${report.newVm.why})`);
    for (const { name, tier, why } of report.dropped) {
      if (why === 'set aside') {
        lines.push(`(${name}'s ${tier} code is dropped: it is set aside until it type-checks again)`);
        continue;
      }
      const now = this.#sessionVm.tierOf(name);
      const because = why === 'redefined' ? '' : 'calls' in why ? ` (it calls ${why.calls}, whose signature changed)` : ` (it called ${why.callsStraight}'s optimized code straight)`;
      const then = now === undefined || now === 'interpreter' ? 'it starts again in the interpreter' : `compiled again in the ${now} tier, as :jit holds it`;
      lines.push(`(${name}'s ${tier} code is dropped${because}: ${then})`);
    }
    return lines;
  }

  /** The declarations of `input`, each with its own text. */
  #split(input: string): Declaration[] {
    let parsed;
    try {
      parsed = this.#vm.parse(input, this.#vm.language.grammar);
    } catch (error) {
      if (error instanceof this.#vm.CompileError) throw new ReplError(error.message);
      throw error;
    }
    const starts: { name: string; kind: 'fn' | 'struct'; offset: number }[] = [];
    const lineStarts = [0];
    for (let i = 0; i < input.length; i++) if (input[i] === '\n') lineStarts.push(i + 1);
    const offsetOf = (pos: { line: number; column: number }) => lineStarts[pos.line - 1]! + pos.column - 1;
    const keywordBefore = (offset: number, keyword: string) => input.lastIndexOf(keyword, offset);
    for (const fn of parsed.functions) starts.push({ name: fn.name, kind: 'fn', offset: keywordBefore(offsetOf(fn.pos), 'fn') });
    for (const decl of (parsed.declarations ?? []) as readonly { kind: string; name?: string; pos: { line: number; column: number } }[]) {
      if (decl.kind === 'struct' && decl.name !== undefined) starts.push({ name: decl.name, kind: 'struct', offset: keywordBefore(offsetOf(decl.pos), 'struct') });
    }
    starts.sort((a, b) => a.offset - b.offset);
    return starts.map((s, i) => {
      const text = input.slice(s.offset, starts[i + 1]?.offset ?? input.length).trim();
      return { name: s.name, kind: s.kind, text, header: text.slice(0, text.indexOf('{')).trim().replace(/\s+/g, ' ') };
    });
  }

  /**
   * Type-checks `declarations` as a whole. An error in one of `changed` is the input's error
   * (thrown, nothing changes); an error in another function sets it aside. Returns the
   * functions set aside, with why, and the program of the declarations (with an empty main).
   */
  #typeCheck(declarations: ReadonlyMap<string, Declaration>, changed: ReadonlySet<string>): { broken: Map<string, string>; program: CompiledProgram } {
    const broken = new Map<string, string>();
    for (;;) {
      const assembled = this.#assemble(declarations, broken, [], []);
      try {
        return { broken, program: this.#vm.compileSource(assembled.source, this.#vm.language) };
      } catch (error) {
        if (!(error instanceof this.#vm.CompileError)) throw error;
        const range = assembled.ranges.find((r) => error.line >= r.first && error.line <= r.last);
        if (range === undefined) throw new ReplError(error.message);
        const where = `${error.line - range.first + 1}:${error.column}: ${error.detail}`;
        if (changed.has(range.name) || declarations.get(range.name)!.kind === 'struct') throw new ReplError(`in ${range.name}: ${where}`);
        broken.set(range.name, where);
      }
    }
  }

  // ---- statements and expressions

  #statements(input: string): string[] {
    const trimmed = input.replace(/\/\/[^\n]*$/, '').trimEnd();
    const isExpression = !trimmed.endsWith(';') && !trimmed.endsWith('}');
    const forms = isExpression ? [`print(${trimmed});`, `${trimmed};`] : [input];
    let lastError: ReplError | undefined;
    for (const form of forms) {
      let compiled;
      try {
        compiled = this.#compileInput(form.split('\n'));
      } catch (error) {
        if (!(error instanceof ReplError)) throw error;
        lastError = error;
        continue;
      }
      return this.#runInput(compiled);
    }
    throw lastError!;
  }

  /**
   * The program for one input: the report reads back every variable in scope that can be
   * kept; one that cannot (an array, a record) is dropped from the report, with a note.
   */
  #compileInput(inputLines: readonly string[], report = true): CompiledInput {
    const candidates = report ? [...new Set([...this.#variables.keys(), ...this.#declaredNames(inputLines)])] : [];
    const dropped: string[] = [];
    for (;;) {
      const kept = candidates.filter((v) => !dropped.includes(v));
      const assembled = this.#assemble(this.#declarations, this.#broken, inputLines, kept);
      try {
        return { program: this.#vm.compileSource(assembled.source, this.#vm.language), assembled, kept, dropped };
      } catch (error) {
        if (!(error instanceof this.#vm.CompileError)) throw error;
        const variable = assembled.reportLines.get(error.line);
        if (variable !== undefined && !dropped.includes(variable)) {
          dropped.push(variable);
          continue;
        }
        throw new ReplError(this.#explain(error, assembled));
      }
    }
  }

  /** The names the input's top-level statements declare with `let`. */
  #declaredNames(inputLines: readonly string[]): string[] {
    try {
      const parsed = this.#vm.parse(`fn main() {\n${inputLines.join('\n')}\n}\n`, this.#vm.language.grammar);
      const main = parsed.functions[0]!;
      return main.body.statements.flatMap((s) => (s.kind === 'let' ? [s.name] : []));
    } catch (error) {
      if (error instanceof this.#vm.CompileError) return []; // the compile that follows says what is wrong
      throw error;
    }
  }

  /** A compile error of an input's program, in the input's own lines (or the declaration's). */
  #explain(error: InstanceType<VmModules['CompileError']>, assembled: Assembled): string {
    if (error.line >= assembled.inputLine && error.line < assembled.inputLine + assembled.inputLines) {
      const detail = this.#withBrokenNote(error.detail);
      return `${error.line - assembled.inputLine + 1}:${error.column}: ${detail}`;
    }
    const range = assembled.ranges.find((r) => error.line >= r.first && error.line <= r.last);
    if (range !== undefined) return `in ${range.name}: ${error.line - range.first + 1}:${error.column}: ${error.detail}`;
    return error.message;
  }

  /** A call of a function set aside says why it was. */
  #withBrokenNote(detail: string): string {
    for (const [name, why] of this.#broken) {
      if (detail.includes(`'${name}'`)) return `${detail} (${name} no longer type-checks: ${why}; redefine it)`;
    }
    return detail;
  }

  #assemble(declarations: ReadonlyMap<string, Declaration>, broken: ReadonlyMap<string, string>, inputLines: readonly string[], report: readonly string[]): Assembled {
    const lines: string[] = [];
    const ranges: { name: string; first: number; last: number }[] = [];
    for (const d of declarations.values()) {
      const own = d.text.split('\n');
      if (broken.has(d.name)) {
        // Blank lines in its place: the declarations below keep their lines, and their bytecode.
        lines.push(...own.map(() => ''));
        continue;
      }
      ranges.push({ name: d.name, first: lines.length + 1, last: lines.length + own.length });
      lines.push(...own);
    }
    lines.push('fn main() {');
    for (const [name, v] of this.#variables) lines.push(`let ${name}: ${v.type} = ${v.value};`);
    lines.push('{');
    const inputLine = lines.length + 1;
    lines.push(...inputLines);
    const reportLines = new Map<number, string>();
    for (const name of report) {
      reportLines.set(lines.length + 1, name);
      lines.push(`print(${name});`);
    }
    lines.push('}', `return ${COMPLETED};`, '}', '');
    return { source: lines.join('\n'), inputLine, inputLines: inputLines.length, reportLines, ranges };
  }

  #runInput({ program, assembled, kept, dropped }: CompiledInput): string[] {
    const run = this.#run(program, (name) => this.tierOf(name));
    const lines = [...run.output];
    if (run.error !== undefined) {
      lines.push(...inInputLines(run.error, assembled).split('\n'));
      return lines;
    }
    if (run.result !== COMPLETED) {
      lines.push(`(returned ${run.result}: the input ended early and its variables are not kept)`);
      return lines;
    }
    const values = lines.splice(lines.length - kept.length, kept.length);
    for (const [i, name] of kept.entries()) {
      const value = values[i]!;
      this.#variables.set(name, { type: value === 'true' || value === 'false' ? 'bool' : 'int', value });
    }
    for (const name of dropped) {
      if (!this.#variables.has(name)) lines.push(`(${name} is not kept: only int and bool values live from one input to the next)`);
    }
    return lines;
  }

  // ---- running, in the tiers

  /**
   * Runs `program` with each function in its tier: in the session's tiered VM, where a
   * function starts in the interpreter and moves to compiled code when hot (its counters kept
   * from input to input), unless `:jit` holds it in a tier. Without the tiered VM:
   * interpreted, or, once `:jit` sent a function to a compiled tier, compiled (the other
   * functions in the baseline tier).
   */
  #run(program: CompiledProgram, tierOf: (name: string) => ReplTier): RunResult {
    if (this.#sessionVm !== undefined) return this.#runInSession(program);
    const forced = program.functions.filter((f) => tierOf(f.name) === 'baseline' || tierOf(f.name) === 'opt');
    if (forced.length === 0) return this.#runInterpreted(program);
    return this.#runCompiled(program, (name) => (tierOf(name) === 'opt' ? 'opt' : 'baseline'));
  }

  /** Runs `program` in the session's VM: its declarations as loaded, its main as this input. */
  #runInSession(program: CompiledProgram): RunResult {
    const session = this.#sessionVm!;
    const output: string[] = [];
    this.#output = output;
    try {
      output.push(...this.#load(program));
      const ending = session.run();
      this.lastRun = { how: 'tiered', tiers: Object.fromEntries(program.functions.map((f) => [f.name, session.tierOf(f.name)!])) };
      if (ending.error !== undefined) return { output, error: `runtime error: ${ending.error.message}\n${this.#vm.tiered!.formatTrace(ending.error.trace)}` };
      return { output, result: ending.result! };
    } finally {
      this.#output = [];
    }
  }

  /** Runs `program` in a tiered VM of its own, from cold: every function in the interpreter at first. */
  #runTiered(program: CompiledProgram): RunResult {
    const tiered = this.#vm.tiered!;
    const output: string[] = [];
    const heap = new tiered.TieredHeap({});
    const vm = new tiered.TieredVM(program, heap, {}, (text) => output.push(text));
    try {
      const ending = vm.run();
      if (ending.error !== undefined) return { output, error: `runtime error: ${ending.error.message}\n${tiered.formatTrace(ending.error.trace)}` };
      return { output, result: ending.result! };
    } finally {
      vm.dispose();
      heap.dispose();
    }
  }

  #runInterpreted(program: CompiledProgram): RunResult {
    const output: string[] = [];
    const heap = this.#newHeap();
    try {
      const level = heap === undefined ? this.#vm.language : this.#vm.heap!.heapInterpreter(heap);
      this.lastRun = { how: 'interpreted', tiers: Object.fromEntries(program.functions.map((f) => [f.name, 'interp'])) };
      const result = this.#vm.interpret(program, { print: (text) => output.push(text), level });
      return { output, result };
    } catch (error) {
      if (error instanceof this.#vm.RuntimeError) return { output, error: `runtime error: ${this.#describe(error)}` };
      throw error;
    } finally {
      heap?.dispose();
    }
  }

  #runCompiled(program: CompiledProgram, tierOf: (name: string) => 'baseline' | 'opt'): RunResult {
    const output: string[] = [];
    const { jit, declined } = this.#compile(program, tierOf);
    const heap = this.#newHeap();
    try {
      if (heap !== undefined) this.#vm.heap!.useHeap(jit, heap);
      const tiers = program.functions.map((f) => [f.name, tierOf(f.name) === 'opt' && !declined.some((d) => d.name === f.name) ? 'opt' : 'baseline']);
      this.lastRun = { how: 'compiled', tiers: Object.fromEntries(tiers) };
      const outcome = jit.run({ print: (text) => output.push(text) });
      if (outcome.error !== undefined) return { output, error: `runtime error: ${this.#describe(outcome.error)}` };
      return { output, result: outcome.result! };
    } finally {
      jit.dispose();
      heap?.dispose();
    }
  }

  /** Compiles `program` for this session's architecture, each function in its tier. */
  #compile(program: CompiledProgram, tierOf: (name: string) => 'baseline' | 'opt', onPass?: (fn: string, pass: string, ir: Parameters<VmModules['printFunction']>[0]) => void) {
    const level = this.#vm.language.jit;
    if (!program.functions.some((f) => tierOf(f.name) === 'opt')) return { jit: this.#vm.compileProgram(program, this.#arch, level), declined: [] as readonly { name: string; reason: string }[] };
    const optimized = this.#vm.compileOptimized(program, this.#arch, { level, tierOf, ...(onPass ? { onPass } : {}) });
    return { jit: optimized.jit, declined: optimized.declined };
  }

  #newHeap(): InstanceType<NonNullable<VmModules['heap']>['Heap']> | undefined {
    return this.#vm.heap === undefined ? undefined : new this.#vm.heap.Heap({});
  }

  #describe(error: Error): string {
    const report = (error as { report?: () => string }).report;
    return typeof report === 'function' ? report.call(error) : error.message;
  }

  // ---- commands

  #command(text: string): string[] {
    const [command, ...words] = text.split(/\s+/);
    switch (command) {
      case ':help':
      case ':h':
        return REPL_HELP.split('\n');
      case ':arch':
        return [`code is made for ${this.#arch}; this process: ${this.#describeHost()}`];
      case ':bytecode':
        return this.#bytecode(words[0]);
      case ':ir':
        return this.#ir(this.#needFunction(words[0], ':ir f'));
      case ':disasm':
        return this.#disasm(this.#needFunction(words[0], ':disasm f [baseline|opt]'), words[1]);
      case ':jit':
        return this.#jit(this.#needFunction(words[0], ':jit f [opt|baseline|interp|auto]'), words[1] ?? 'opt');
      case ':trace':
        return this.#trace(words[0]);
      case ':time':
        return this.#time(text.slice(':time'.length).trim());
      case ':list':
        return this.#list();
      case ':forget':
        return this.#forget(words[0]);
      default:
        throw new ReplError(`unknown command ${command} (:help lists the commands)`);
    }
  }

  #needFunction(name: string | undefined, usage: string): string {
    if (name === undefined) throw new ReplError(`usage: ${usage}`);
    const d = this.#declarations.get(name);
    if (d === undefined || d.kind !== 'fn') throw new ReplError(`no function ${name} is defined${this.#declarations.size > 0 ? ` (defined: ${[...this.#declarations.keys()].join(', ')})` : ''}`);
    if (this.#broken.has(name)) throw new ReplError(`${name} does not type-check: ${this.#broken.get(name)} (redefine it)`);
    return name;
  }

  /** The session's declarations with an empty main, compiled to bytecode. */
  #declarationsProgram(): CompiledProgram {
    const assembled = this.#assemble(this.#declarations, this.#broken, [], []);
    try {
      return this.#vm.compileSource(assembled.source, this.#vm.language);
    } catch (error) {
      if (error instanceof this.#vm.CompileError) throw new ReplError(this.#explain(error, assembled));
      throw error;
    }
  }

  #bytecode(name: string | undefined): string[] {
    const program = this.#declarationsProgram();
    const chosen = name === undefined ? program.functions.filter((f) => f.name !== 'main') : [program.functions.find((f) => f.name === this.#needFunction(name, ':bytecode f'))!];
    if (chosen.length === 0) return ['(nothing defined yet)'];
    return chosen.map((fn) => this.#vm.listFunction(fn, program.functions, this.#vm.language.opcodes)).join('\n\n').split('\n');
  }

  #ir(name: string): string[] {
    const program = this.#declarationsProgram();
    let last: { pass: string; text: string } | undefined;
    const { jit, declined } = this.#compile(program, (n) => (n === name ? 'opt' : 'baseline'), (fn, pass, ir) => {
      if (fn === name) last = { pass, text: this.#vm.printFunction(ir) };
    });
    jit.dispose();
    const refused = declined.find((d) => d.name === name);
    if (refused !== undefined) return [`the optimizing tier declines ${name}: ${refused.reason}`];
    if (last === undefined) return [`the optimizing tier made no IR for ${name}`];
    return [`;; ${name} after ${last.pass}`, ...last.text.split('\n')];
  }

  #disasm(name: string, tierWord: string | undefined): string[] {
    const tier = tierWord ?? (this.tierOf(name) === 'opt' ? 'opt' : 'baseline');
    if (tier !== 'baseline' && tier !== 'opt') throw new ReplError(`:disasm shows machine code: baseline or opt, not ${tier} (:bytecode shows the interpreter's code)`);
    const { jit, declined } = this.#compile(this.#declarationsProgram(), (n) => (n === name ? tier : 'baseline'));
    try {
      const block = functionListing(jit, name);
      const refused = declined.find((d) => d.name === name);
      const size = functionSize(jit, name);
      return [
        `${name}: ${refused ? `baseline tier (the optimizing tier declines it: ${refused.reason})` : tier === 'opt' ? 'optimizing tier' : 'baseline tier'}, 0x${size.toString(16)} bytes of ${jit.arch} code`,
        ...block.split('\n'),
      ];
    } finally {
      jit.dispose();
    }
  }

  #jit(name: string, tierWord: string): string[] {
    if (!REPL_TIERS.includes(tierWord as ReplTier)) throw new ReplError(`:jit takes a tier: ${REPL_TIERS.join(', ')}, not ${tierWord}`);
    const tier = tierWord as ReplTier;
    if (tier === 'auto') {
      this.#tiers.delete(name);
      return [`${name}: tiered again (it moves on from its tier when hot)`];
    }
    this.#tiers.set(name, tier);
    if (this.#sessionVm !== undefined) return this.#holdInSession(name, tier);
    if (tier === 'interp') return [`${name}: held in the interpreter`];
    // Compiled now, to say what became of it; each run compiles it again with the session's latest declarations.
    const { jit, declined } = this.#compile(this.#declarationsProgram(), (n) => (n === name ? tier : 'baseline'));
    const size = functionSize(jit, name);
    jit.dispose();
    const refused = declined.find((d) => d.name === name);
    if (refused !== undefined) return [`${name}: the optimizing tier declines it (${refused.reason}); it runs in the baseline tier, 0x${size.toString(16)} bytes of ${this.#arch} code`];
    return [`${name}: ${tier === 'opt' ? 'optimizing' : 'baseline'} tier, 0x${size.toString(16)} bytes of ${this.#arch} code`];
  }

  /** `:jit` in the session's VM: the function is compiled in its tier now (or sent back to the interpreter). */
  #holdInSession(name: string, tier: Exclude<ReplTier, 'auto'>): string[] {
    const session = this.#sessionVm!;
    const lines = this.#load(this.#declarationsProgram());
    session.hold(name);
    if (tier === 'interp') return [...lines, `${name}: held in the interpreter`];
    const code = session.codeOf(name);
    const size = `0x${(code?.length ?? 0).toString(16)} bytes of ${this.#arch} code`;
    const now = session.tierOf(name);
    if (tier === 'opt' && now !== 'optimized') return [...lines, `${name}: the optimizing tier declines it (${session.declinedReason(name) ?? 'no reason given'}); it runs in the baseline tier, ${size}`];
    return [...lines, `${name}: ${now === 'optimized' ? 'optimizing' : 'baseline'} tier, ${size}`];
  }

  #time(expression: string): string[] {
    if (expression === '') throw new ReplError('usage: :time expr');
    const frontStarted = performance.now();
    const { program, assembled } = this.#compileInput([`print(${expression});`], false);
    // The interpreter's compile is the front end's (source to bytecode), which the other tiers start from too.
    const frontMs = performance.now() - frontStarted;
    const rows: { tier: string; compileMs: number; runMs: number; run: RunResult }[] = [];
    for (const tier of ['interp', 'baseline', 'opt'] as const) {
      const started = performance.now();
      if (tier === 'interp') {
        const run = this.#runInterpreted(program);
        rows.push({ tier, compileMs: frontMs, runMs: performance.now() - started, run });
        continue;
      }
      const { jit } = this.#compile(program, () => tier);
      const compiled = performance.now();
      const output: string[] = [];
      const heap = this.#newHeap();
      let run: RunResult;
      try {
        if (heap !== undefined) this.#vm.heap!.useHeap(jit, heap);
        const outcome = jit.run({ print: (text) => output.push(text) });
        run = outcome.error === undefined ? { output, result: outcome.result! } : { output, error: `runtime error: ${this.#describe(outcome.error)}` };
      } finally {
        jit.dispose();
        heap?.dispose();
      }
      rows.push({ tier, compileMs: compiled - started, runMs: performance.now() - compiled, run });
    }
    if (this.#vm.tiered !== undefined) {
      // The tiered VM compiles while it runs: its compile time is inside its run.
      const started = performance.now();
      const run = this.#runTiered(program);
      rows.push({ tier: 'tiered', compileMs: frontMs, runMs: performance.now() - started, run });
    }
    const ms = (n: number) => `${n.toFixed(2)} ms`.padStart(11);
    const lines = [`${'tier'.padEnd(10)}${'compile'.padStart(11)}${'run'.padStart(11)}${'total'.padStart(11)}`];
    for (const row of rows) lines.push(`${row.tier.padEnd(10)}${ms(row.compileMs)}${ms(row.runMs)}${ms(row.compileMs + row.runMs)}`);
    const shown = (r: RunResult) => [...r.output, ...(r.error ? [inInputLines(r.error, assembled)] : [])].join('\n');
    const first = shown(rows[0]!.run);
    const disagree = rows.filter((r) => shown(r.run) !== first);
    lines.push(...first.split('\n'));
    if (disagree.length > 0) lines.push(`the tiers disagree: ${rows.map((r) => `${r.tier} printed ${JSON.stringify(shown(r.run))}`).join('; ')}`);
    return lines;
  }

  #trace(word: string | undefined): string[] {
    if (word !== 'on' && word !== 'off') throw new ReplError('usage: :trace on|off');
    this.#traceTiers = word === 'on';
    return [`the tiered VM's promotions are ${this.#traceTiers ? 'shown' : 'not shown'}`];
  }

  #list(): string[] {
    const lines: string[] = [];
    for (const d of this.#declarations.values()) {
      const now = d.kind === 'fn' ? this.#sessionVm?.tierOf(d.name) : undefined;
      const notes = [d.kind === 'fn' ? `${this.tierOf(d.name)}${now === undefined ? '' : `, ${now} now`}` : undefined, this.#broken.has(d.name) ? `does not type-check: ${this.#broken.get(d.name)}` : undefined].filter((n) => n !== undefined);
      lines.push(`${d.header}${notes.length > 0 ? `    [${notes.join('; ')}]` : ''}`);
    }
    for (const [name, v] of this.#variables) lines.push(`let ${name}: ${v.type} = ${v.value}`);
    return lines.length === 0 ? ['(nothing defined yet)'] : lines;
  }

  #forget(name: string | undefined): string[] {
    if (name === undefined) throw new ReplError('usage: :forget name');
    if (this.#variables.delete(name)) return [`forgot the variable ${name}`];
    if (!this.#declarations.has(name)) throw new ReplError(`nothing is called ${name}`);
    const next = new Map(this.#declarations);
    next.delete(name);
    const { broken, program } = this.#typeCheck(next, new Set());
    this.#declarations.delete(name);
    this.#tiers.delete(name);
    const lines = [`forgot ${name}`];
    for (const [other, why] of broken) if (!this.#broken.has(other)) lines.push(`${other} no longer type-checks: ${why}`);
    this.#broken.clear();
    for (const [other, why] of broken) this.#broken.set(other, why);
    lines.push(...this.#load(program));
    return lines;
  }
}

/** One function's block of a program's listing (chapter 07's format: `== f ==`, then its instructions). */
export function functionListing(jit: JitProgram, name: string): string {
  const block = jit.listing().split('\n\n').find((b) => b.startsWith(`== ${name} ==`));
  if (block === undefined) throw new ReplError(`no code for ${name} in the listing`);
  const table = jit.tables.get<{ describeFunction(name: string): string | undefined } | undefined>('unwind', () => undefined);
  const unwind = table?.describeFunction(name);
  return unwind === undefined ? block : `${block}\n${unwind}`;
}

/** How many bytes of code `name` has (to the next function, or the end of the code). */
export function functionSize(jit: JitProgram, name: string): number {
  const sorted = [...jit.functions].sort((a, b) => a.offset - b.offset);
  const i = sorted.findIndex((f) => f.name === name);
  if (i < 0) throw new ReplError(`no code for ${name}`);
  return (sorted[i + 1]?.offset ?? jit.code.length) - sorted[i]!.offset;
}
