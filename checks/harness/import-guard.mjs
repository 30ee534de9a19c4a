/**
 * The import guard of grading (installed by worker.ts in a staged copy of a student's work,
 * through node:module registerHooks, so it sees `require()` as well as `import`). Code under
 * chapters/ may import only chapters/, native/, packages and Node's own modules: an import of
 * anything else (reference solutions/ staged for a check, the checks themselves, an absolute
 * path into another copy of the workbook) is refused with an error, so the student's code
 * cannot pass the checks with code that is not theirs. A module made from a `data:` URL counts
 * as the student's: it can only have come from their code. Plain JavaScript, so that it loads
 * before any TypeScript loader is ready.
 *
 * This is a fence against taking the reference by accident or in passing, not a wall: code in
 * the same process can read a staged file and evaluate it. What a graded copy stages of the
 * reference is kept to what the checks cannot do without (session.ts).
 */
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @param {string} url */
function pathOf(url) {
  return url.startsWith('file:') ? fileURLToPath(url) : null;
}

/**
 * The guard's hooks for a staged copy at `root`.
 * @param {{ root: string, allowed?: string[] }} data `allowed`: folders of solutions/ chosen with --use-ref
 */
export function importGuard(data) {
  const root = data.root.endsWith(sep) ? data.root : data.root + sep;
  /** folders (with a trailing separator) the student's code may import besides its own */
  const allowedFolders = ['chapters', 'native', ...(data.allowed ?? [])].map((folder) => root + folder.split('/').join(sep) + sep);
  return {
    /**
     * @param {string} specifier
     * @param {{ parentURL?: string }} context
     * @param {(specifier: string, context: object) => { url: string }} nextResolve
     */
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      const parentURL = context.parentURL ?? '';
      const parent = pathOf(parentURL);
      const fromStudent = parent === null ? parentURL.startsWith('data:') : parent.startsWith(`${root}chapters${sep}`);
      if (!fromStudent) return resolved;
      const target = pathOf(resolved.url);
      if (target === null) return resolved; // node: built-ins, data: URLs (whose own imports come back here)
      const allowed = allowedFolders.some((folder) => target.startsWith(folder)) || target.includes(`${sep}node_modules${sep}`);
      if (allowed) return resolved;
      const shown = target.startsWith(root) ? target.slice(root.length) : target;
      const importer = parent === null ? 'a data: module' : parent.slice(root.length);
      const error = new Error(
        `${importer} imports '${specifier}' (${shown}): when work is graded, code in chapters/ may import only chapters/, native/ and packages, never the reference solutions or the checks`,
      );
      error.name = 'GradingImportRefused';
      throw error;
    },
  };
}
