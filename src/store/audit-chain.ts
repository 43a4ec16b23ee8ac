/**
 * The tamper-evident audit trail (issue 15.7, docs/audit-trail.md): every decision row a store
 * writes is chained by a SHA-256 hash to the row written before it by the same writer.
 *
 * One chain per writer, never one for the whole database: a SQLite store instance (one gate
 * process) has one chain; a PostgreSQL store instance has one per group of decisions it can have
 * in flight at once (one per connection of its pool), so no gate ever waits for another gate's —
 * or its own other connections' — chain. Each chain is named by a random id made when its writer
 * first writes; its rows are numbered 1, 2, 3… (position).
 *
 * What is hashed (version 1), in two steps:
 *
 *   content_hash = SHA-256(contentText(row))      the decision as written, see contentHead
 *   row_hash     = SHA-256("callgate-audit/1|" + chain + "|" + position + "|" + prev_hash + "|" + content_hash)
 *
 * prev_hash is the row_hash of the row before in the chain (GENESIS for position 1, or the
 * chain's anchor after a purge). Hashes are lower-case hex. The fields that are written later
 * into the same row — the call outcome (answered, dial status, hangup cause, duration, end) and
 * the FREQ-2 release — are NOT hashed: they are filled in after the decision was chained.
 *
 * The content hash is computed in the gate process (it reads the whole row: the costly part);
 * the PostgreSQL store makes the short link hash inside callgate.record_decisions, in the same
 * statement, because only there does it know which decisions of the group were written (a
 * decision refused under the advisory lock takes no position).
 *
 * Chain heads (table chain_heads) keep each chain's last position and hash, and its anchor (the
 * position and hash of the last row a purge removed: the chain then starts after it), updated in
 * the same transaction as the rows: a deleted tail shows as a head beyond the last row.
 */
import { hash, randomBytes } from 'node:crypto';

/** Version of the serialization below; a row hashed another way would name another version. */
export const CHAIN_VERSION = 1;
const LINK_PREFIX = `callgate-audit/${CHAIN_VERSION}|`;
const CONTENT_PREFIX = `callgate-audit-row/${CHAIN_VERSION}\n`;

/** prev_hash of a chain's first row (and the anchor of a chain never purged). */
export const GENESIS = '0'.repeat(64);

/** The immutable columns of a decision row, as the stores write them. */
export type ChainContent = {
  id: string;
  /** Decision.at, epoch ms. */
  at: number;
  e164: string | null;
  professional: string;
  campaign: string;
  verdict: 'allow' | 'block';
  /** Reason codes, space separated. */
  reasons: string;
  /** The stored audit text (the whole decision: basis, rules, rules version, caller id, source…). */
  auditText: string;
  /** The row is an attempt (FREQ-1). */
  counted: boolean;
};

/** Where a row sits in its chain. */
export type ChainLink = { chain: string; position: number; prevHash: string; rowHash: string };

/** A decision row as verification reads it: its content, and its link (null on rows written before the chain existed). */
export type AuditChainRow = ChainContent & {
  chain: string | null;
  position: number | null;
  prevHash: string | null;
  rowHash: string | null;
};

/** A chain's head (table chain_heads). */
export type ChainHead = {
  chain: string;
  /** Position of the chain's last row (0: none written yet). */
  position: number;
  /** row_hash of that row (GENESIS when none). */
  hash: string;
  /** Rows up to this position were purged (0: none); the first kept row's prev_hash is anchorHash. */
  anchorPosition: number;
  anchorHash: string;
  /** When the head last moved, epoch ms. */
  updatedAt: number;
};

/**
 * The canonical text of a row's short immutable fields: a versioned prefix, then one JSON array
 * (JSON strings and integers have one spelling each; keys never reorder in an array) and a line
 * break. The audit text follows it as it is (contentText): the array never holds a raw line
 * break, so the two cannot be told apart wrongly, and the long text is not escaped again.
 */
function contentHead(r: ChainContent): string {
  const { id, at, e164, professional, campaign, verdict, reasons, counted } = r;
  // The array spelled by hand (every decision row is hashed): the same text JSON.stringify gives for
  // fields of these types (strings quoted by JSON.stringify itself, a finite integer in decimal,
  // null, true/false); anything else goes through JSON.stringify, so the text never differs.
  if (
    typeof id === 'string' &&
    Number.isSafeInteger(at) &&
    (e164 === null || typeof e164 === 'string') &&
    typeof professional === 'string' &&
    typeof campaign === 'string' &&
    typeof verdict === 'string' &&
    typeof reasons === 'string' &&
    typeof counted === 'boolean'
  )
    return `${CONTENT_PREFIX}[${q(id)},${at},${e164 === null ? 'null' : q(e164)},${q(professional)},${q(campaign)},${q(verdict)},${q(reasons)},${counted}]\n`;
  return CONTENT_PREFIX + JSON.stringify([id, at, e164, professional, campaign, verdict, reasons, counted]) + '\n';
}

const q = JSON.stringify as (s: string) => string;

/** What content_hash covers: contentHead, then the audit text verbatim. */
export function contentText(r: ChainContent): string {
  return contentHead(r) + r.auditText;
}

/**
 * SHA-256 of a string's UTF-8 bytes, lower-case hex. crypto.hash (one shot) rather than
 * createHash().update().digest(): the same digest, without a Hash object and its stream
 * machinery per call (about half the cost; two hashes per decision row).
 */
const sha256 = (s: string) => hash('sha256', s, 'hex');

/** SHA-256 of contentText(r): the head and the audit text hashed as one string (the same bytes in the same order). */
export function contentHash(r: ChainContent): string {
  return sha256(contentHead(r) + r.auditText);
}

/** The text the link hash covers (PostgreSQL builds the same string in record_decisions). */
export function linkText(chain: string, position: number, prevHash: string, content: string): string {
  return `${LINK_PREFIX}${chain}|${position}|${prevHash}|${content}`;
}

export function rowHash(r: ChainContent, chain: string, position: number, prevHash: string): string {
  return sha256(linkText(chain, position, prevHash, contentHash(r)));
}

/** A new chain id: 128 random bits, hex. */
export function newChainId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The chain of one in-process writer (SQLite, memory): the next link, advanced only once its row
 * is written, and put back to the last committed state when a transaction is rolled back.
 */
export class ChainWriter {
  private id: string | undefined;
  private position = 0;
  private hash = GENESIS;
  private committed = { position: 0, hash: GENESIS };
  private startedAt = 0;

  /** The link the next row would take (the chain is made on the first call). */
  next(r: ChainContent): ChainLink {
    if (this.id === undefined) {
      this.id = newChainId();
      this.startedAt = Date.now();
    }
    const position = this.position + 1;
    return { chain: this.id, position, prevHash: this.hash, rowHash: rowHash(r, this.id, position, this.hash) };
  }

  /** The row of `link` was written. */
  advance(link: ChainLink): void {
    this.position = link.position;
    this.hash = link.rowHash;
  }

  /** The head to write before COMMIT, when rows were written since the last one. */
  pendingHead(): { chain: string; position: number; hash: string; startedAt: number } | undefined {
    if (this.id === undefined || this.position === this.committed.position) return undefined;
    return { chain: this.id, position: this.position, hash: this.hash, startedAt: this.startedAt };
  }

  committedNow(): void {
    this.committed = { position: this.position, hash: this.hash };
  }

  rolledBack(): void {
    this.position = this.committed.position;
    this.hash = this.committed.hash;
  }
}

/** One thing wrong in a chain: the first row (or place) where it stops being what was written. */
export type ChainProblem = {
  chain: string;
  position: number;
  /** The decision at that position, when there is one. */
  decisionId?: string;
  kind:
    'edited' | 'deleted' | 'inserted' | 'reordered' | 'resealed' | 'tail-deleted' | 'appended' | 'no-head' | 'anchor';
  message: string;
};

export type VerifyReport = {
  chains: number;
  /** Chained rows checked. */
  rows: number;
  /** Rows written before the chain existed (no chain columns): counted, not checked. */
  unchained: number;
  /** At most one per chain: the first problem found in it. */
  problems: ChainProblem[];
  heads: ChainHead[];
  /** Anchored heads (--against) compared with the chains, and how many did not match. */
  anchored?: { checked: number; mismatched: number };
  ms: number;
};

/** A head recorded elsewhere earlier (`audit verify --heads` output), to compare with. */
export type AnchoredHead = { chain: string; position: number; hash: string };

/** What Store.auditChain yields: the heads first (one batch), then the rows. */
export type AuditChainBatch = { kind: 'heads'; heads: ChainHead[] } | { kind: 'rows'; rows: AuditChainRow[] };

/** Where verification reads from: a Store. */
export type ChainSource = { auditChain(batchSize?: number): AsyncIterable<AuditChainBatch> };

/** How far from its position verification looks for where a row that fails its hash was written. */
const MOVED_WINDOW = 8;

const short = (h: string | null) => (h === null ? 'null' : `${h.slice(0, 12)}…`);

/**
 * Checks every chain, streaming: rows must come chained ones first in (chain, position) order,
 * then the unchained ones. Memory: the heads, and one row's state per chain.
 */
export async function verifyChains(
  src: ChainSource,
  opts: { batchSize?: number; against?: AnchoredHead[] } = {},
): Promise<VerifyReport> {
  const started = Date.now();
  let heads: ChainHead[] = [];
  let headOf = new Map<string, ChainHead>();
  const against = new Map((opts.against ?? []).map((a) => [a.chain, a]));
  const anchored = opts.against ? { checked: 0, mismatched: 0 } : undefined;
  const problems: ChainProblem[] = [];
  const seen = new Set<string>();
  let rows = 0;
  let unchained = 0;

  // the chain being read
  let cur: string | undefined;
  let expectPos = 0;
  let expectPrev = GENESIS;
  let last: { position: number; id: string; hash: string } | undefined;
  let beforeLast: typeof last;
  let failed = false;
  let beforeFirst = true;

  const problem = (p: ChainProblem) => {
    if (failed) return;
    failed = true;
    problems.push(p);
  };
  const checkAnchored = (chain: string, position: number, hash: string, id?: string) => {
    const a = against.get(chain);
    if (!a || a.position !== position || !anchored) return;
    anchored.checked++;
    against.delete(chain);
    if (a.hash !== hash) {
      anchored.mismatched++;
      problem({
        chain,
        position,
        decisionId: id,
        kind: 'resealed',
        message: `does not match the head anchored earlier (${short(a.hash)}, now ${short(hash)}): the chain was rewritten up to here`,
      });
    }
  };
  const endChain = () => {
    if (cur === undefined) return;
    const h = headOf.get(cur);
    const lastPos = last?.position ?? (h ? h.anchorPosition : 0);
    if (h === undefined) {
      problem({
        chain: cur,
        position: last?.position ?? 0,
        decisionId: last?.id,
        kind: 'no-head',
        message:
          'the chain has no head in chain_heads: its rows were inserted under a chain nobody wrote, or its head was deleted',
      });
    } else if (lastPos < h.position) {
      problem({
        chain: cur,
        position: lastPos + 1,
        kind: 'tail-deleted',
        message: `the tail was deleted: positions ${lastPos + 1}..${h.position} are missing (the head says ${h.position}, the last row is ${lastPos})`,
      });
    } else if (lastPos > h.position) {
      problem({
        chain: cur,
        position: h.position + 1,
        kind: 'appended',
        message: `rows after the head (${h.position}): appended without moving the head, or the head was set back`,
      });
    } else if (last !== undefined && last.hash !== h.hash) {
      problem({
        chain: cur,
        position: last.position,
        decisionId: last.id,
        kind: 'resealed',
        message: `the last row's row_hash (${short(last.hash)}) is not the head's (${short(h.hash)}): the row was replaced and re-sealed`,
      });
    }
  };
  const startChain = (chain: string) => {
    endChain();
    cur = chain;
    seen.add(chain);
    failed = false;
    last = undefined;
    beforeLast = undefined;
    beforeFirst = true;
    const h = headOf.get(chain);
    expectPos = (h?.anchorPosition ?? 0) + 1;
    expectPrev = h?.anchorHash ?? GENESIS;
  };

  for await (const batch of src.auditChain(opts.batchSize ?? 1000)) {
    if (batch.kind === 'heads') {
      heads = batch.heads;
      headOf = new Map(heads.map((h) => [h.chain, h]));
      continue;
    }
    for (const r of batch.rows) {
      if (r.chain === null || r.position === null) {
        unchained++;
        continue;
      }
      rows++;
      if (r.chain !== cur) startChain(r.chain);
      if (failed) continue;
      const id = r.id;
      if (r.position < expectPos) {
        const anchor = headOf.get(r.chain)?.anchorPosition ?? 0;
        problem({
          chain: r.chain,
          position: r.position,
          decisionId: id,
          kind: 'inserted',
          message:
            r.position <= anchor && beforeFirst
              ? `a row at position ${r.position}, at or before the chain's purge anchor (${anchor}): inserted`
              : `a second row at position ${r.position}: inserted`,
        });
        continue;
      }
      if (r.position > expectPos) {
        problem({
          chain: r.chain,
          position: expectPos,
          decisionId: id,
          kind: 'deleted',
          message: `position${r.position - expectPos > 1 ? `s ${expectPos}..${r.position - 1} are` : ` ${expectPos} is`} missing (deleted); the next row is position ${r.position}, decision ${id}`,
        });
        continue;
      }
      const content = contentHash(r);
      const hashAt = (position: number) => sha256(linkText(r.chain!, position, r.prevHash ?? '', content));
      const hash = hashAt(r.position);
      if (r.rowHash !== hash) {
        // written at another position? (a few around: an insert or a delete renumbers by one)
        let q: number | undefined;
        for (let d = 1; d <= MOVED_WINDOW && q === undefined; d++)
          for (const c of [r.position - d, r.position + d]) if (c >= 1 && hashAt(c) === r.rowHash) q = c;
        if (q === r.position - 1 && beforeLast !== undefined && r.prevHash === beforeLast.hash && last) {
          // this row and the one before both claim to follow beforeLast: the one before was put in
          problem({
            chain: r.chain,
            position: last.position,
            decisionId: last.id,
            kind: 'inserted',
            message: `inserted: it was not written in this chain; the next row (decision ${id}) was written at position ${last.position}, right after position ${beforeLast.position} (decision ${beforeLast.id}), and renumbered`,
          });
        } else if (q !== undefined) {
          problem({
            chain: r.chain,
            position: r.position,
            decisionId: id,
            kind: 'reordered',
            message: `it was written at position ${q} and is now at ${r.position}: rows were reordered (or rows before it deleted or inserted, and the rest renumbered)`,
          });
        } else
          problem({
            chain: r.chain,
            position: r.position,
            decisionId: id,
            kind: 'edited',
            message: 'its content does not match its row_hash: the row was edited after it was written',
          });
        continue;
      }
      if (r.prevHash !== expectPrev) {
        problem({
          chain: r.chain,
          position: r.position,
          decisionId: id,
          kind: last === undefined ? 'anchor' : 'resealed',
          message:
            last === undefined
              ? `its prev_hash (${short(r.prevHash)}) is not the chain's anchor (${short(expectPrev)}): the chain's first rows or its anchor were changed`
              : `its prev_hash (${short(r.prevHash)}) is not the row_hash of position ${last.position} (decision ${last.id}, ${short(last.hash)}): that row was changed and re-sealed, or rows were reordered`,
        });
        continue;
      }
      checkAnchored(r.chain, r.position, hash, id);
      beforeLast = last;
      last = { position: r.position, id, hash };
      beforeFirst = false;
      expectPos = r.position + 1;
      expectPrev = hash;
    }
  }
  endChain();
  // heads whose chain has no row left
  for (const h of heads) {
    if (seen.has(h.chain)) continue;
    cur = h.chain;
    failed = false;
    last = undefined;
    if (h.position > h.anchorPosition)
      problem({
        chain: h.chain,
        position: h.anchorPosition + 1,
        kind: 'tail-deleted',
        message: `every row is missing: positions ${h.anchorPosition + 1}..${h.position} were deleted`,
      });
    else if (h.hash !== h.anchorHash)
      problem({
        chain: h.chain,
        position: h.position,
        kind: 'anchor',
        message: 'the head and the purge anchor disagree on the hash of the last row',
      });
    else checkAnchored(h.chain, h.position, h.hash);
  }
  // anchored heads never met: their position must still be the anchor of a purge, or the chain is gone
  for (const a of against.values()) {
    if (!anchored) break;
    const h = headOf.get(a.chain);
    if (h && a.position <= h.anchorPosition) {
      if (a.position === h.anchorPosition) {
        anchored.checked++;
        if (a.hash !== h.anchorHash) anchored.mismatched++;
      }
      continue; // purged since it was anchored: what is left is checked from the purge anchor
    }
    anchored.checked++;
    anchored.mismatched++;
    failed = false;
    problem({
      chain: a.chain,
      position: a.position,
      kind: 'deleted',
      message: h
        ? `the anchored head (position ${a.position}) is beyond the chain's head (${h.position}): rows were deleted`
        : 'the anchored chain is gone (its rows and head were deleted)',
    });
  }
  return {
    chains: new Set([...seen, ...heads.map((h) => h.chain)]).size,
    rows,
    unchained,
    problems,
    heads,
    anchored,
    ms: Date.now() - started,
  };
}
