/** Files the simulator needs, found from the repository root (works from test/ under ts-jest and from dist/ after a build). */
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

export const ARI_DOCS_DIR = path.join(repoRoot(), 'test', 'fixtures', 'ari-api-docs');
export const SNIPPET_PATH = path.join(repoRoot(), 'dialplan', 'asterisk', 'extensions_callgate.conf');
