/**
 * A module resolution hook for grading (registered by worker.ts in a staged copy of a
 * student's work). Code under chapters/ may import only chapters/, native/, packages and
 * Node's own modules: an import of anything else (reference solutions/ staged for a check,
 * the checks themselves, an absolute path into another copy of the workbook) is refused
 * with an error, so the student's code cannot pass the checks with code that is not theirs.
 * Plain JavaScript: hooks run on a loader thread, before any TypeScript loader is ready.
 */
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

let root = '';

/** @param {{ root: string }} data */
export function initialize(data) {
  root = data.root.endsWith(sep) ? data.root : data.root + sep;
}

/** @param {string} url */
function pathOf(url) {
  return url.startsWith('file:') ? fileURLToPath(url) : null;
}

/**
 * @param {string} specifier
 * @param {{ parentURL?: string }} context
 * @param {(specifier: string, context: object) => Promise<{ url: string }>} nextResolve
 */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const parent = context.parentURL ? pathOf(context.parentURL) : null;
  if (!parent || !parent.startsWith(`${root}chapters${sep}`)) return resolved;
  const target = pathOf(resolved.url);
  if (target === null) return resolved; // node: built-ins, data: URLs
  const allowed =
    target.startsWith(`${root}chapters${sep}`) || target.startsWith(`${root}native${sep}`) || target.includes(`${sep}node_modules${sep}`);
  if (allowed) return resolved;
  const shown = target.startsWith(root) ? target.slice(root.length) : target;
  const error = new Error(
    `${parent.slice(root.length)} imports '${specifier}' (${shown}): when work is graded, code in chapters/ may import only chapters/, native/ and packages, never the reference solutions or the checks`,
  );
  error.name = 'GradingImportRefused';
  throw error;
}
