/**
 * Figures of chapter 05: the Pratt parser's binding powers on an example, made from the
 * reference lexer's tokens, the powers in the reference grammar's infix table and the tree
 * the reference parser returns.
 */
import type { Expr } from '../../../solutions/05-parser/ast.ts';
import { CORE_GRAMMAR } from '../../../solutions/05-parser/grammar.ts';
import { tokenize } from '../../../solutions/05-parser/lexer.ts';
import { parseExpr } from '../../../solutions/05-parser/parser.ts';
import { printExpr } from '../../../solutions/05-parser/printer.ts';
import { Drawing } from '../svg.ts';

const EXAMPLE = '1 + 2 * 3 - 4';

/** A node of the tree with the column of the token it stands for and its depth. */
interface Placed {
  readonly label: string;
  readonly column: number;
  readonly depth: number;
  readonly children: readonly Placed[];
}

/** The tree, each node at the source column of its token (binary nodes are at their operator). */
function place(expr: Expr, depth: number): Placed {
  switch (expr.kind) {
    case 'binary':
      return { label: expr.op, column: expr.pos.column, depth, children: [place(expr.left, depth + 1), place(expr.right, depth + 1)] };
    case 'int':
      return { label: String(expr.value), column: expr.pos.column, depth, children: [] };
    case 'name':
      return { label: expr.name, column: expr.pos.column, depth, children: [] };
    default:
      throw new Error(`the binding-power figure draws only numbers, names and binary operators, not '${expr.kind}'`);
  }
}

function* nodes(node: Placed): Generator<Placed> {
  yield node;
  for (const child of node.children) yield* nodes(child);
}

function bindingPowers(): string {
  const tokens = tokenize(EXAMPLE);
  const tree = parseExpr(EXAMPLE);
  const root = place(tree, 0);
  const all = [...nodes(root)];
  const depth = Math.max(...all.map((node) => node.depth));
  const step = 70;
  const xOf = (column: number) => 90 + (column - 1) * (step / 2);
  const rowY = 30;
  const treeTop = 130;
  const level = 52;
  const powers = (kind: string) => {
    const rule = CORE_GRAMMAR.infix.get(kind);
    // A binary parselet parses its right operand with parseExpression(power + 1).
    return rule === undefined ? undefined : { left: rule.power, right: rule.power + 1 };
  };
  const shown = tokens.map((token) => ({ token, text: token.kind === 'eof' ? 'eof' : token.text, powers: powers(token.kind) }));
  const last = shown.at(-1)!;
  const eofColumn = last.token.kind === 'eof' ? EXAMPLE.length + 3 : last.token.column;
  const width = xOf(eofColumn) + 60;
  const drawing = new Drawing(width, treeTop + depth * level + 40,
    `The expression ${EXAMPLE}, token by token, with the binding powers the reference grammar gives each operator, and the tree the reference parser builds. ${shown
      .map(({ text, powers }) => (powers ? `${text}: left power ${powers.left}, right power ${powers.right}` : `${text}: ${text === 'eof' ? 'no infix rule, so every loop stops' : 'an operand'}`))
      .join('; ')}. The tree is ${printExpr(tree)}: the root is the last operator taken at minimum power 0.`);
  drawing.text(10, rowY - 12, 'tokens', { anchor: 'start', size: 12, muted: true });
  for (const { token, text, powers } of shown) {
    const x = xOf(token.kind === 'eof' ? eofColumn : token.column);
    drawing.box(x - 18, rowY, 36, 30, '', '', { accent: powers !== undefined });
    drawing.text(x, rowY + 20, text, { mono: true, size: text.length > 2 ? 12 : 15, bold: true, muted: token.kind === 'eof' });
    if (powers) {
      drawing.text(x - 12, rowY + 50, String(powers.left), { anchor: 'end', mono: true, size: 12 });
      drawing.text(x + 12, rowY + 50, String(powers.right), { anchor: 'start', mono: true, size: 12 });
    }
  }
  drawing.text(10, rowY + 50, 'powers', { anchor: 'start', size: 12, muted: true });
  drawing.text(10, treeTop + 5, 'tree', { anchor: 'start', size: 12, muted: true });
  // The tree, each node under its token.
  const at = (node: Placed) => [xOf(node.column), treeTop + node.depth * level] as const;
  for (const node of all) {
    const [x, y] = at(node);
    drawing.line(x, rowY + 56, x, y - 14, { dashed: true, muted: true });
    for (const child of node.children) {
      const [cx, cy] = at(child);
      drawing.line(x, y + 14, cx, cy - 14);
    }
  }
  for (const node of all) {
    const [x, y] = at(node);
    drawing.box(x - 16, y - 14, 32, 28, node.label, '', { accent: node.children.length > 0 });
  }
  return drawing.render(
    `<code>${EXAMPLE}</code> as the reference parser reads it. Under each operator, its left and right binding power from the grammar's infix table ` +
      `(level L gives 2L and 2L + 1). The <code>-</code> has left power ${powers('-')!.left}, less than the ${powers('+')!.right} the <code>+</code> asks of its right side, ` +
      `so the inner call stops before it and the outer loop groups from the left: <code>${printExpr(tree)}</code>. Each node sits under its token.`,
  );
}

export const FIGURES_05: Readonly<Record<string, () => string>> = {
  'binding-powers': bindingPowers,
};
