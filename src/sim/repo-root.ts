/** The repository root, found upwards from a file (works under ts-jest from test/ and from dist/ after a build). */
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
