/**
 * IR text that two compilers can agree on: a function printed with its blocks in reverse
 * postorder from the entry and its blocks and values renumbered in order of appearance
 * (phi operands sorted by their predecessor's new number). Two functions that differ only
 * in how their values and blocks are numbered, or in the order their blocks are listed,
 * print the same. The checks compare a pass's output with the expected IR this way, so a
 * learner's numbering never matters, only the code.
 */
import type { IrFunc, IrInst } from './ir-interpreter.ts';

export interface CanonicalFunc extends IrFunc {
  readonly params?: readonly { readonly name: string; readonly type: string }[];
  readonly returnType?: string;
}

export function canonicalText(fn: CanonicalFunc): string {
  const byId = new Map(fn.blocks.map((b) => [b.id, b]));
  const order: number[] = [];
  const seen = new Set<number>();
  const visit = (start: number) => {
    const stack: { id: number; next: number }[] = [{ id: start, next: 0 }];
    seen.add(start);
    const post: number[] = [];
    while (stack.length > 0) {
      const top = stack.at(-1)!;
      const succ = byId.get(top.id)?.insts.at(-1)?.targets ?? [];
      if (top.next < succ.length) {
        const t = succ[top.next++]!;
        if (!seen.has(t) && byId.has(t)) {
          seen.add(t);
          stack.push({ id: t, next: 0 });
        }
      } else {
        post.push(top.id);
        stack.pop();
      }
    }
    order.push(...post.reverse());
  };
  if (fn.blocks[0]) visit(fn.blocks[0].id);
  const blockName = new Map(order.map((id, i) => [id, `b${i}`]));
  const valueName = new Map<number, string>();
  for (const id of order) for (const inst of byId.get(id)!.insts) if (inst.type !== 'void') valueName.set(inst.id, `v${valueName.size}`);
  const v = (id: number) => valueName.get(id) ?? `v?${id}`;
  const b = (id: number) => blockName.get(id) ?? `b?${id}`;
  const show = (inst: IrInst): string => {
    const def = inst.type === 'void' ? '' : `${v(inst.id)} = `;
    switch (inst.op) {
      case 'const':
      case 'param':
        return `${def}${inst.op} ${inst.type} ${inst.imm}`;
      case 'phi': {
        const pairs = inst.args.map((a, k) => ({ pred: b(inst.preds![k]!), value: v(a) })).sort((x, y) => x.pred.localeCompare(y.pred, 'en', { numeric: true }));
        return `${def}phi ${inst.type} ${pairs.map((p) => `[${p.pred}: ${p.value}]`).join(', ')}`;
      }
      case 'call':
        return `${def}call ${inst.type} ${inst.callee}(${inst.args.map(v).join(', ')})`;
      case 'jump':
        return `jump ${b(inst.targets![0]!)}`;
      case 'branch':
        return `branch ${v(inst.args[0]!)}, ${b(inst.targets![0]!)}, ${b(inst.targets![1]!)}`;
      default:
        return `${def}${inst.op}${inst.args.length ? ` ${inst.args.map(v).join(', ')}` : ''}`;
    }
  };
  const lines = [`function ${fn.name} {`];
  for (const id of order) {
    lines.push(`${b(id)}:`);
    for (const inst of byId.get(id)!.insts) lines.push(`  ${show(inst)}`);
  }
  lines.push('}');
  return lines.join('\n');
}
