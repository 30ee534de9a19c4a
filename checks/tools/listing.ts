/**
 * The checks of a chapter as the runner sees them (names, points, hint ladders), without
 * running any: a worker started past its last check lists them and stops.
 */
import type { Readable } from 'node:stream';
import type { Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import type { Chapter } from '../manifest.ts';
import type { ListedCheck } from '../harness/protocol.ts';
import { readEvents, startWorker } from '../harness/runner.ts';
import { conditionsFor } from '../harness/session.ts';

const PAST_THE_END = 1_000_000;

/**
 * Lists a chapter's checks on `arch` (the host unless said otherwise). With `solutions`, the
 * reference stands in for every chapter, so a broken learner file cannot hide a check.
 */
export function listChecks(root: string, chapter: Chapter, arch: Arch, options: { solutions?: boolean } = {}): Promise<ListedCheck[]> {
  const found = availability(arch, root);
  if (!found.available) return Promise.reject(new Error(found.reason));
  const { launcher } = found;
  const conditions = conditionsFor({ solutions: options.solutions ?? false });
  return new Promise((resolve, reject) => {
    const child = startWorker(launcher, root, conditions, chapter, PAST_THE_END);
    let listed: ListedCheck[] | undefined;
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), launcher.mode === 'emulated' ? 120_000 : 30_000);
    child.stdout!.resume();
    (child.stdio[4] as Readable).resume();
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    readEvents(child.stdio[3] as Readable, (event) => {
      if (event.t === 'list') listed = event.checks;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (listed) resolve(listed);
      else reject(new Error(`could not list the checks of chapter ${chapter.number} on ${arch} (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}
