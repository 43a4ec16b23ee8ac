/** Files the simulator needs, found from the repository root (works from test/ under ts-jest and from dist/ after a build). */
import * as path from 'node:path';
import { repoRoot } from '../repo-root';

export { repoRoot };

export const ARI_DOCS_DIR = path.join(repoRoot(), 'src', 'sim', 'fixtures', 'ari-api-docs');
export const SNIPPET_PATH = path.join(repoRoot(), 'dialplan', 'asterisk', 'extensions_callgate.conf');
