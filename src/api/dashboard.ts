/**
 * The dashboard's files, read once when the API starts and served from memory: the page, its script
 * and its style (dashboard/ at the package's root, shipped with the package, no build step), and the
 * chart library uPlot (MIT) served from its own npm package with its licence.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export type Asset = { path: string; type: string; body: Buffer; etag: string };

/** The package's root: the first folder above this file with callgate's package.json (src/api or dist/src/api). */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'callgate') return dir;
      } catch {
        // not ours: keep going up
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`callgate's package.json not found above ${from}`);
    dir = up;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

function asset(urlPath: string, file: string, type?: string): Asset {
  const body = readFileSync(file);
  let h = 0;
  for (const b of body) h = (h * 31 + b) >>> 0;
  return {
    path: urlPath,
    type: type ?? TYPES[path.extname(file)]!,
    body,
    etag: `"${body.length.toString(16)}-${h.toString(16)}"`,
  };
}

/** Every file of the dashboard, by URL path. */
export function dashboardAssets(root: string = packageRoot()): Asset[] {
  const dir = path.join(root, 'dashboard');
  const uplot = path.dirname(require.resolve('uplot/package.json', { paths: [root] }));
  return [
    asset('/', path.join(dir, 'index.html')),
    asset('/dashboard.js', path.join(dir, 'dashboard.js')),
    asset('/dashboard.css', path.join(dir, 'dashboard.css')),
    asset('/vendor/uPlot.iife.min.js', path.join(uplot, 'dist', 'uPlot.iife.min.js')),
    asset('/vendor/uPlot.min.css', path.join(uplot, 'dist', 'uPlot.min.css')),
    asset('/vendor/uPlot.LICENSE.txt', path.join(uplot, 'LICENSE'), TYPES['.txt']),
  ];
}
