/**
 * The heap benchmarks written in JavaScript, as a JavaScript programmer would: the Node.js
 * rows of the heap table.
 *
 * `node --import tsx tools/bench/node-twins.ts binary-trees 16` runs one in a process of its
 * own, prints its output, and on stderr `seconds S cpu C` for the run alone (start-up and
 * module loading left out). The heap table runs them so: Node.js's own collector decides
 * where an object lives by what the heap held before (allocation-site pretenuring), and in a
 * process that has loaded and run the whole workbook it moves the short-lived trees to the
 * old generation and runs binary-trees three to four times slower than `node` on the file.
 */
import { fileURLToPath } from 'node:url';

interface JsTree {
  left: JsTree | null;
  right: JsTree | null;
}

export function jsBinaryTrees(maxDepth: number): string {
  const bottomUp = (d: number): JsTree => (d <= 0 ? { left: null, right: null } : { left: bottomUp(d - 1), right: bottomUp(d - 1) });
  const check = (t: JsTree): number => (t.left === null ? 1 : 1 + check(t.left) + check(t.right!));
  const out = [String(check(bottomUp(maxDepth + 1)))];
  const longLived = bottomUp(maxDepth);
  for (let depth = 4; depth <= maxDepth; depth += 2) {
    const iterations = 1 << (maxDepth - depth + 4);
    let total = 0;
    for (let i = 0; i < iterations; i++) total += check(bottomUp(depth));
    out.push(String(iterations), String(total));
  }
  out.push(String(check(longLived)));
  return out.join('\n');
}

export function jsSieve(n: number): string {
  const composite = new Uint8Array(n);
  let count = 0;
  for (let i = 2; i < n; i++) {
    if (composite[i] === 0) {
      count++;
      for (let j = i * i; j < n; j += i) composite[j] = 1;
    }
  }
  return String(count);
}

export const NODE_TWINS: Readonly<Record<string, (size: number) => string>> = { 'binary-trees': jsBinaryTrees, sieve: jsSieve };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name = '', size = ''] = process.argv.slice(2);
  const twin = NODE_TWINS[name];
  if (twin === undefined || !/^\d+$/.test(size)) {
    console.error(`usage: node --import tsx tools/bench/node-twins.ts ${Object.keys(NODE_TWINS).join('|')} <size>`);
    process.exit(2);
  }
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const output = twin(Number(size));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  console.log(output);
  console.error(`seconds ${seconds} cpu ${(used.user + used.system) / 1e6}`);
}
