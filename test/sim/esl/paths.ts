/** Files the ESL simulator needs, found from the repository root (works under ts-jest and from dist/ after a build). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function repoRoot(from: string = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/** The shipped dialplan snippet, verbatim. */
export const SHIPPED_DIALPLAN = path.join(repoRoot(), 'dialplan', 'freeswitch', 'callgate.xml');
/** Recorded Event Socket transcripts the framing is checked against. */
export const ESL_FIXTURES = path.join(repoRoot(), 'test', 'fixtures', 'esl');
