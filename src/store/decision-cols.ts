/** The columns of a decision row, as the SQL stores (SQLite and PostgreSQL) name and read them. */
export type DecisionCols = {
  id: string;
  /** Decision.at, epoch ms. */
  at: number;
  e164: string | null;
  professional: string;
  campaign: string;
  verdict: 'allow' | 'block';
  /** Reason codes, space separated. */
  reasons: string;
  /** The stored audit text (the decision as JSON). */
  json: string;
};
