/**
 * What the self-tests that grade hostile submissions look for among the machine's processes
 * (checks/selftest/sandbox.test.ts, red-team.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Processes whose command line holds `mark` (what a fork bomb or a daemon would leave running). */
export function survivors(mark: string): number {
  let found = 0;
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(mark)) found++;
    } catch {
      // gone
    }
  }
  return found;
}
