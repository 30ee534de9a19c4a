/**
 * Runs reference code for a figure. solutions/ of a later chapter imports the earlier ones as
 * `#chNN/…`, which resolves to the learner's chapters/ unless Node is given the package's
 * `solution-chNN` conditions. So a figure that needs a real assembler or compiler run calls an
 * exported function of its own module in a child Node with every chapter's reference, and gets
 * its result back as JSON (numbers, strings, arrays: no bigints, no typed arrays).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Every `solution-chNN` condition the package's import map knows. */
function referenceConditions(): string[] {
  const manifest = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { imports?: Record<string, unknown> };
  return Object.values(manifest.imports ?? {})
    .flatMap((target) => (typeof target === 'object' && target !== null ? Object.keys(target) : []))
    .filter((condition) => condition.startsWith('solution-'));
}

const results = new Map<string, unknown>();
const registered = new Map<string, { moduleUrl: string; exportName: string }>();

/**
 * Announces a reference run a figure will ask for, so that the first figure drawn runs all of
 * them in one child process instead of one child each. Call it when the module loads.
 */
export function registerReference(moduleUrl: string, exportName: string): void {
  registered.set(`${moduleUrl}#${exportName}`, { moduleUrl, exportName });
}

/** `exportName()` of the module at `moduleUrl`, run with every chapter's reference; memoized. */
export function runReference<T>(moduleUrl: string, exportName: string): T {
  const key = `${moduleUrl}#${exportName}`;
  if (!results.has(key)) {
    registerReference(moduleUrl, exportName);
    const runs = [...registered].filter(([pending]) => !results.has(pending));
    const script = [
      'const out = {};',
      `for (const [key, moduleUrl, exportName] of ${JSON.stringify(runs.map(([pending, run]) => [pending, run.moduleUrl, run.exportName]))}) {`,
      '  out[key] = await (await import(moduleUrl))[exportName]();',
      '}',
      'process.stdout.write(JSON.stringify(out));',
    ].join('\n');
    const conditions = referenceConditions().map((condition) => `--conditions=${condition}`);
    let output: string;
    try {
      output = execFileSync(process.execPath, [...conditions, '--import', 'tsx', '--input-type=module', '--eval', script], {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`the reference runs of the figures (${runs.map(([pending]) => pending.replace(/^.*\//, '')).join(', ')}) failed:\n${stderr.trim() || String(error)}`);
    }
    for (const [pending, value] of Object.entries(JSON.parse(output) as Record<string, unknown>)) results.set(pending, value);
  }
  return results.get(key) as T;
}
