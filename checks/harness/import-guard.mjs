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
/** @type {string[]} folders (with a trailing separator) the student's code may import besides its own */
let allowedFolders = [];

/** @param {{ root: string, allowed?: string[] }} data `allowed`: folders of solutions/ chosen with --use-ref */
export function initialize(data) {
  root = data.root.endsWith(sep) ? data.root : data.root + sep;
  allowedFolders = ['chapters', 'native', ...(data.allowed ?? [])].map((folder) => root + folder.split('/').join(sep) + sep);
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
  const allowed = allowedFolders.some((folder) => target.startsWith(folder)) || target.includes(`${sep}node_modules${sep}`);
  if (allowed) return resolved;
  const shown = target.startsWith(root) ? target.slice(root.length) : target;
  const error = new Error(
    `${parent.slice(root.length)} imports '${specifier}' (${shown}): when work is graded, code in chapters/ may import only chapters/, native/ and packages, never the reference solutions or the checks`,
  );
  error.name = 'GradingImportRefused';
  throw error;
}
