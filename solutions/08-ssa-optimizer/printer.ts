/**
 * Chapter 08: the text form of the IR, printed.
 *
 *   function gcd(a: int, b: int): int {
 *   b0:
 *     v0 = param int 0
 *     v1 = param int 1
 *     jump b1
 *   b1:
 *     v2 = phi int [b0: v0], [b2: v3]
 *     v3 = phi int [b0: v1], [b2: v6]
 *     v4 = const int 0
 *     v5 = ne v3, v4
 *     branch v5, b2, b3
 *   b2:
 *     v6 = mod v2, v3 @4
 *     jump b1
 *   b3:
 *     return v2
 *   }
 *
 * Operations whose type the operands do not decide carry it after their name (`const`,
 * `param`, `phi`, `call`); `@4` is the source line of an instruction that can raise a
 * runtime error. text.ts parses exactly this form back.
 */
import type { Block, Func, Inst, IrProgram } from './ir.ts';

const TYPED_OPS = new Set(['const', 'param', 'phi', 'call']);

export function printInst(inst: Inst): string {
  const v = (id: number) => `v${id}`;
  const b = (id: number) => `b${id}`;
  const line = inst.line > 0 && (inst.op === 'div' || inst.op === 'mod' || inst.op === 'call') ? ` @${inst.line}` : '';
  let body: string;
  switch (inst.op) {
    case 'const':
    case 'param':
      body = `${inst.op} ${inst.type} ${inst.imm}`;
      break;
    case 'phi':
      body = `phi ${inst.type} ${inst.args.map((a, i) => `[${b(inst.preds![i]!)}: ${v(a)}]`).join(', ')}`;
      break;
    case 'call':
      body = `call ${inst.type} ${inst.callee}(${inst.args.map(v).join(', ')})`;
      break;
    case 'jump':
      return `jump ${b(inst.targets![0]!)}`;
    case 'branch':
      return `branch ${v(inst.args[0]!)}, ${b(inst.targets![0]!)}, ${b(inst.targets![1]!)}`;
    default: {
      const operands = inst.args.map(v).join(', ');
      const extra = TYPED_OPS.has(inst.op) ? ` ${inst.type}` : '';
      // A later chapter's operation may carry a constant of its own (chapter 11: a field's number).
      const imm = inst.imm !== undefined ? ` #${inst.imm}` : '';
      body = `${inst.op}${extra}${operands ? ` ${operands}` : ''}${imm}`;
    }
  }
  return inst.type === 'void' ? `${body}${line}` : `${v(inst.id)} = ${body}${line}`;
}

export function printBlock(block: Block): string {
  return [`b${block.id}:`, ...block.insts.map((inst) => `  ${printInst(inst)}`)].join('\n');
}

export function printFunction(fn: Func): string {
  const params = fn.params.map((p) => `${p.name}: ${p.type}`).join(', ');
  return [`function ${fn.name}(${params}): ${fn.returnType} {`, ...fn.blocks.map(printBlock), '}'].join('\n');
}

export function printProgram(program: IrProgram): string {
  return [...program.functions.values()].map(printFunction).join('\n\n');
}
