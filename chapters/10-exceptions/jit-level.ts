/**
 * Chapter 10: exceptions in the baseline tier (chapter 07's templates and hooks) and in the
 * optimizing tier (chapter 09's machine hooks).
 *
 * What changes in the machine code, and what does not:
 *   - a call no longer tests anything after it returns (chapter 07's `failed` test is gone):
 *     its return offset goes into the unwind table, with the source line and the handler
 *     covering the call, if any;
 *   - `try` emits nothing: a handler is a row in the unwind table and a landing pad after
 *     the function's body, which stores the payload (in the result register) on the operand
 *     stack at the handler's depth and jumps to the catch block;
 *   - `throw` and the runtime errors (division by zero, the call-depth limit, the stack
 *     limit) put the payload in args[0] and jump to the throw stub (stubs.ts);
 *   - every prologue compares sp with the stack limit (3 instructions);
 *   - the optimizing tier compiles `throw` (an IR terminator, below) and declines functions
 *     with a handler (the template compiler compiles them), but its frames are unwound like
 *     any other: its prologues' saved registers are in the unwind table, its calls' return
 *     offsets too, and so are its throws.
 */
import type { Label } from '#ch04/macro-assembler.ts';
import { Op, lineAt, readU16, type CompiledFunction, type CompiledProgram, type OpcodeSet } from '#ch06/bytecode.ts';
import { CORE_JIT, extendJit, type JitLevel, type Template, type TemplateContext } from '#ch07/compiler.ts';
import { ERROR_KIND } from '#ch07/runtime.ts';
import { VOID } from '#ch08/ir.ts';
import { CORE_OPS, extendOps, type OpTable } from '#ch08/ops.ts';
import type { OptimizingMachineHooks } from '#ch09/codegen.ts';
import { EX, EXCEPTIONS_CONTEXT, emitExceptionEntry, emitThrow, unwindTable } from './stubs.ts';
import { FunctionUnwind, type HandlerTarget, type UnwindSite, type UnwindTable } from './unwind-table.ts';
import { closeRun, openRun } from './jit-runtime.ts';
import { handlersOf, type HandlerEntry } from './handlers.ts';
import { RUNTIME_ERROR_PAYLOADS } from './errors.ts';
import { todo } from '#native/todo.ts';

type Handler = HandlerEntry;

/** What the machine side needs of the language level. */
export interface ExceptionsFrontEnd {
  /** The opcodes, `throw` among them. */
  readonly opcodes: OpcodeSet;
  readonly throwOpcode: number;
  /** The function's handlers, innermost first (default: the handler tables of handlers.ts). */
  readonly handlersOf?: (fn: CompiledFunction) => readonly Handler[];
  /** The payload of each runtime error, by chapter 07's error kind (default: RUNTIME_ERROR_PAYLOADS). */
  readonly payloads?: ReadonlyMap<number, bigint>;
}

/** Chapter 07's runtime error kinds and their payloads. */
export const PAYLOAD_OF_KIND: ReadonlyMap<number, bigint> = new Map([
  [ERROR_KIND.divisionByZero, RUNTIME_ERROR_PAYLOADS.divisionByZero.payload],
  [ERROR_KIND.stackOverflow, RUNTIME_ERROR_PAYLOADS.stackOverflow.payload],
]);

/**
 * The IR operation `throw payload`: a terminator (control never goes on after it, so its
 * block has no successors and nothing is live past it, as after `return`) that may throw
 * and is a side effect, so no pass removes it or moves it across another side effect.
 */
export const EXCEPTIONS_OPS: OpTable = extendOps(CORE_OPS, [
  {
    name: 'throw',
    arity: 1,
    terminator: true,
    effects: { mayThrow: true, sideEffect: true },
    typeRule: (t) => (t[0] === 'int' ? VOID : { error: `throw needs an int payload, found ${t[0]}` }),
  },
]);

/** What a throw site or runtime error stub does out of line, emitted after the body. */
interface ThrowStub {
  readonly label: Label;
  readonly payload: bigint;
  /** Runtime error kind + 1, or 0 for a `throw` statement. */
  readonly kind: number;
  readonly line: number;
  readonly handler: HandlerTarget | undefined;
  readonly siteKind: UnwindSite['kind'];
}

/** Per function being compiled: its landing pads and its out-of-line throws. */
interface FunctionState {
  readonly unwind: FunctionUnwind;
  readonly landings: Map<Handler, HandlerTarget>;
  readonly stubs: ThrowStub[];
}

const states = new WeakMap<FunctionUnwind, FunctionState>();

function stateOf(t: TemplateContext): FunctionState {
  return states.get(unwindTable(t.tables).current!)!;
}

/** The innermost handler whose try body covers bytecode offset `pc`. */
export function handlerAt(handlers: readonly Handler[], pc: number): Handler | undefined {
  // TODO: the same rule as findHandler (handlers.ts), on the table itself.
  return todo('handlerAt');
}

/** Chapter 10's JIT level over `base`: the templates, hooks and runtime of this file's top comment. */
export function exceptionsJit(frontEnd: ExceptionsFrontEnd, base: JitLevel = CORE_JIT): JitLevel {
  const front = { ...frontEnd, handlersOf: frontEnd.handlersOf ?? handlersOf, payloads: frontEnd.payloads ?? PAYLOAD_OF_KIND };
  const handlerFor = (t: TemplateContext, state: FunctionState): HandlerTarget | undefined => {
    const h = handlerAt(front.handlersOf(t.fn), t.pc);
    return h === undefined ? undefined : state.landings.get(h);
  };

  /** An out-of-line throw of a runtime error at this instruction, covered by this instruction's handler. */
  const runtimeError = (t: TemplateContext, kind: number, line = lineAt(t.fn, t.pc), siteKind: UnwindSite['kind'] = 'throw'): Label => {
    const state = stateOf(t);
    const handler = siteKind === 'limit' ? undefined : handlerFor(t, state);
    const existing = state.stubs.find((s) => s.kind === kind + 1 && s.line === line && s.handler === handler && s.siteKind === siteKind);
    if (existing !== undefined) return existing.label;
    const label = t.masm.newLabel(`${t.fn.name}.raise${state.stubs.length}`);
    state.stubs.push({ label, payload: front.payloads.get(kind) ?? 0n, kind: kind + 1, line, handler, siteKind });
    return label;
  };

  // @book:start prologue
  /** Starts the function's unwind entry and its landing pads; then the stack-limit check. */
  const prologue: Template = (t) => {
    const table = unwindTable(t.tables);
    const unwind = table.begin(new FunctionUnwind(t.fn.index, t.fn.name, 'baseline', t.functionLabel(t.fn.index), t.frame));
    const landings = new Map<Handler, HandlerTarget>();
    for (const h of front.handlersOf(t.fn)) {
      t.jumpTarget(h.target, h.depth + 1); // the catch block starts with the payload pushed
      landings.set(h, { landing: t.masm.newLabel(`${t.fn.name}.catch${String(h.target).padStart(4, '0')}`), depth: h.depth, target: h.target });
    }
    states.set(unwind, { unwind, landings, stubs: [] });
    const { t0, t1 } = t.registers;
    t.masm.move(t1, t.masm.regs.sp);
    t.masm.load(t0, t.registers.ctx, EX.stackLimit!);
    t.masm.branchIf('ult', t1, t0, runtimeError(t, ERROR_KIND.stackOverflow, t.fn.line, 'limit'));
  };
  // @book:end prologue

  // @book:start call
  /** chapter 07's call, minus the test after it: the return offset is a row of the unwind table. */
  const call: Template = (t) => {
    const { masm, fn, pc } = t;
    const { callsLeft } = t.registers;
    const callee = readU16(fn.code, pc + 1);
    const argc = fn.code[pc + 3]!;
    const first = t.depth - argc;
    masm.branchIfImmediate('eq', callsLeft, 0, runtimeError(t, ERROR_KIND.stackOverflow));
    masm.addImmediate(callsLeft, callsLeft, -1);
    for (let i = 0; i < argc; i++) masm.loadSlot(masm.regs.args[i]!, t.slot(first + i));
    const returnOffset = masm.call(t.functionLabel(callee));
    const state = stateOf(t);
    state.unwind.sites.push({ kind: 'call', at: returnOffset, line: lineAt(fn, pc), handler: handlerFor(t, state) });
    masm.addImmediate(callsLeft, callsLeft, 1);
    masm.storeSlot(masm.regs.result, t.slot(first));
    t.depth = first + 1;
  };
  // @book:end call

  const throwTemplate: Template = (t) => {
    const { masm } = t;
    const state = stateOf(t);
    masm.loadSlot(masm.regs.args[0]!, t.slot(t.depth - 1));
    const at = emitThrow(masm, unwindTable(t.tables), 0);
    state.unwind.sites.push({ kind: 'throw', at, line: lineAt(t.fn, t.pc), handler: handlerFor(t, state) });
    t.depth--;
  };

  /** chapter 07's division, with the zero test going to a throw. */
  const division = (isDiv: boolean): Template => (t) => {
    const { masm } = t;
    const { t0, t1 } = t.registers;
    const a = t.slot(t.depth - 2);
    const b = t.slot(t.depth - 1);
    const ordinary = masm.newLabel();
    const done = masm.newLabel();
    masm.loadSlot(t0, a);
    masm.loadSlot(t1, b);
    masm.branchIfImmediate('eq', t1, 0, runtimeError(t, ERROR_KIND.divisionByZero));
    masm.branchIfImmediate('ne', t1, -1, ordinary);
    if (isDiv) masm.neg(t0, t0);
    else masm.moveImmediate(t0, 0n);
    masm.jump(done);
    masm.bind(ordinary);
    if (isDiv) masm.div(t0, t0, t1);
    else masm.rem(t0, t0, t1);
    masm.bind(done);
    masm.storeSlot(t0, a);
    t.depth--;
  };

  // @book:start after-body
  /** Out of line: the runtime errors' throws, then a landing pad per handler. */
  const afterBody: Template = (t) => {
    const { masm } = t;
    const state = stateOf(t);
    const table = unwindTable(t.tables);
    emitThrowStubs(masm, table, state.unwind, state.stubs);
    for (const [h, target] of state.landings) {
      masm.bind(target.landing);
      masm.comment(`catch: the payload onto the operand stack at depth ${h.depth}, then the catch block at ${String(h.target).padStart(4, '0')}`);
      masm.storeSlot(masm.regs.result, t.slot(h.depth));
      masm.jump(t.jumpTarget(h.target, h.depth + 1));
    }
  };
  // @book:end after-body

  // The optimizing tier: no handlers (it declines functions with one), only rows for its frames.
  const limits = new WeakMap<FunctionUnwind, Label>();
  const machine: OptimizingMachineHooks = {
    prologue: (site) => {
      const table = unwindTable(site.tables);
      const unwind = table.begin(new FunctionUnwind(site.functionIndex, site.name, 'optimized', site.entry, site.frame));
      const [s0, s1] = site.scratch;
      const limit = site.masm.newLabel(`${site.name}.limit`);
      limits.set(unwind, limit);
      site.masm.move(s0, site.masm.regs.sp);
      site.masm.load(s1, site.registers.ctx, EX.stackLimit!);
      site.masm.branchIf('ult', s0, s1, limit);
    },
    afterCall: (site, returnOffset, line) => {
      unwindTable(site.tables).current!.sites.push({ kind: 'call', at: returnOffset, line, handler: undefined });
    },
    error: (site, kind, line) => {
      const table = unwindTable(site.tables);
      site.masm.moveImmediate(site.masm.regs.args[0]!, front.payloads.get(kind) ?? 0n);
      const at = emitThrow(site.masm, table, kind + 1);
      table.current!.sites.push({ kind: 'throw', at, line, handler: undefined });
    },
    afterBody: (site) => {
      const table = unwindTable(site.tables);
      const unwind = table.current!;
      const stub: ThrowStub = { label: limits.get(unwind)!, payload: front.payloads.get(ERROR_KIND.stackOverflow) ?? 0n, kind: ERROR_KIND.stackOverflow + 1, line: 0, handler: undefined, siteKind: 'limit' };
      emitThrowStubs(site.masm, table, unwind, [stub]);
    },
    declines: (program, index) => declineReason(front, program, index),
    optimizing: {
      build: { opcodes: front.opcodes, terminators: new Map([[front.throwOpcode, { op: 'throw', operand: 'int' }]]) },
      ops: EXCEPTIONS_OPS,
      emit: new Map([
        // The payload into args[0], then the throw stub, as the runtime errors' stubs do.
        ['throw', (site, inst, [payload]) => {
          const table = unwindTable(site.tables);
          site.masm.comment(`throw at line ${inst.line}: the payload, then the throw stub`);
          site.masm.move(site.masm.regs.args[0]!, payload!);
          const at = emitThrow(site.masm, table, 0);
          table.current!.sites.push({ kind: 'throw', at, line: inst.line, handler: undefined });
        }],
      ]),
    },
  };
  return extendJit(base, {
    opcodes: front.opcodes,
    templates: new Map<number, Template>([
      [Op.call, call],
      [Op.div, division(true)],
      [Op.mod, division(false)],
      [front.throwOpcode, throwTemplate],
    ]),
    prologue,
    afterCall: () => {}, // chapter 10's `call` template has no test after the call
    afterBody,
    entry: emitExceptionEntry,
    layout: EXCEPTIONS_CONTEXT,
    beforeRun: openRun,
    afterRun: closeRun,
    machine,
  });
}

/** Emits out-of-line throws and records their sites. */
function emitThrowStubs(masm: TemplateContext['masm'], table: UnwindTable, unwind: FunctionUnwind, stubs: readonly ThrowStub[]): void {
  for (const stub of stubs) {
    masm.bind(stub.label);
    masm.comment(stub.siteKind === 'limit' ? `the stack limit: throw ${stub.payload} (stack overflow)` : `${errorName(stub.kind - 1)} at line ${stub.line}: throw ${stub.payload}`);
    masm.moveImmediate(masm.regs.args[0]!, stub.payload);
    const at = emitThrow(masm, table, stub.kind);
    unwind.sites.push({ kind: stub.siteKind, at, line: stub.line, handler: stub.handler });
  }
}

/** A runtime error kind's name: `division by zero`. */
function errorName(kind: number): string {
  const key = Object.entries(ERROR_KIND).find(([, k]) => k === kind)?.[0] as keyof typeof RUNTIME_ERROR_PAYLOADS | undefined;
  return key === undefined ? `runtime error ${kind}` : RUNTIME_ERROR_PAYLOADS[key].message;
}

/** Why the optimizing tier leaves function `index` to the template compiler, if it does. */
export function declineReason(front: Required<ExceptionsFrontEnd>, program: CompiledProgram, index: number): string | undefined {
  const fn = program.functions[index]!;
  if (front.handlersOf(fn).length > 0) return 'it contains a try: the optimizing tier leaves exception handlers to the template compiler';
  return undefined;
}
