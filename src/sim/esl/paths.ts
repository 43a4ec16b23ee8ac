/** Files the ESL simulator needs, found from the repository root (works under ts-jest and from dist/ after a build). */
import * as path from 'node:path';
import { repoRoot } from '../repo-root';

export { repoRoot };

/** The shipped dialplan snippet, verbatim. */
export const SHIPPED_DIALPLAN = path.join(repoRoot(), 'dialplan', 'freeswitch', 'callgate.xml');
/** Recorded Event Socket transcripts the framing is checked against. */
export const ESL_FIXTURES = path.join(repoRoot(), 'src', 'sim', 'fixtures', 'esl');
