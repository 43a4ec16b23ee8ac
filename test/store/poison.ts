/** Test helper: a real SQLite COMMIT failure, without mocks. */
import type Database from 'better-sqlite3';

/**
 * Makes the COMMIT of any transaction that wrote decision `id` fail on this
 * connection: a trigger leaves a deferred foreign key violated, which SQLite
 * checks at COMMIT (SQLITE_CONSTRAINT_FOREIGNKEY, the transaction stays open).
 */
export function poisonCommit(db: Database.Database, id: string): void {
  db.pragma('foreign_keys = ON');
  db.exec(`
    CREATE TEMP TABLE poison_parent (id INTEGER PRIMARY KEY);
    CREATE TEMP TABLE poison_child (pid INTEGER REFERENCES poison_parent (id) DEFERRABLE INITIALLY DEFERRED);
    CREATE TEMP TRIGGER poison_commit AFTER INSERT ON main.decisions WHEN NEW.id = '${id}'
    BEGIN INSERT INTO poison_child (pid) VALUES (42); END;
  `);
}
