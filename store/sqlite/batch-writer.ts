import type Database from 'better-sqlite3';
import type { ConflictingReading, FlaggedInterval, StoredReading, WriteResult } from '../../ingest/reading.js';
import { sameValues } from '../same-values.js';
import { HOUR_MS } from './interval-sums.js';
import { NO_SEQ } from './schema.js';
import { SeriesWriter } from './series.js';

/** A resent reading that differs from the stored one: its index in the batch and the stored values. */
export interface BatchConflict {
  index: number;
  stored: ConflictingReading['stored'];
}

export interface BatchOutcome {
  result: WriteResult;
  flagged: FlaggedInterval[];
  conflicts: BatchConflict[];
}

/**
 * Batches of readings in one write transaction (one fsync with `synchronous=FULL`): each new reading is
 * stored and its counters put in their series (store/sqlite/series.ts); a reading already stored is a
 * duplicate, silent when its values are the same and a conflict when they differ. Runs on the store's
 * writer thread (store/sqlite/write-worker.ts), which owns the write connection.
 */
export class BatchWriter {
  private readonly insertReading: Database.Statement;
  private readonly storedValues: Database.Statement;
  private readonly series: SeriesWriter;
  private readonly markChange: Database.Statement;
  private readonly tx: (batches: StoredReading[][]) => BatchOutcome[];

  constructor(db: Database.Database) {
    this.insertReading = db.prepare(
      `INSERT OR IGNORE INTO readings (device, ts, seq, kind, site, sector, fields, extras, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.storedValues = db.prepare('SELECT fields, extras FROM readings WHERE device = ? AND ts = ? AND seq = ?');
    this.series = new SeriesWriter(db);
    this.markChange = db.prepare(
      `INSERT INTO interval_changes (hour, gen) VALUES (?, (SELECT COALESCE(MAX(gen), 0) + 1 FROM interval_changes))
       ON CONFLICT (hour) DO UPDATE SET gen = excluded.gen`,
    );
    this.tx = db.transaction((batches: StoredReading[][]) => {
      const outcomes = batches.map((readings) => this.applyAll(readings));
      // what aggregates kept in memory check before they are answered again (store/sqlite/settled-aggregates.ts)
      const earliest = this.series.takeEarliestChange();
      if (earliest !== null) this.markChange.run(Math.floor(earliest / HOUR_MS));
      return outcomes;
    });
  }

  write(readings: StoredReading[]): BatchOutcome {
    return this.writeMany([readings])[0]!;
  }

  /** Several batches in one transaction, each with its own outcome; one failure rolls back them all. */
  writeMany(batches: StoredReading[][]): BatchOutcome[] {
    try {
      return this.tx(batches);
    } catch (err) {
      // The transaction was rolled back: what the series kept in memory of it is not in the database.
      this.series.forget();
      throw err;
    }
  }

  private applyAll(readings: StoredReading[]): BatchOutcome {
    let inserted = 0;
    let duplicates = 0;
    const flagged = new Map<string, FlaggedInterval>();
    const conflicts: BatchConflict[] = [];
    for (const [index, r] of readings.entries()) {
      const seq = r.seq ?? NO_SEQ;
      const res = this.insertReading.run(r.device, r.ts, seq, r.kind, r.site, r.sector, JSON.stringify(r.fields), JSON.stringify(r.extras), r.receivedAt);
      if (res.changes === 0) {
        duplicates++;
        const stored = this.storedValues.get(r.device, r.ts, seq) as { fields: string; extras: string } | undefined;
        // OR IGNORE also skips a row with an empty required column: that reading is refused, not a duplicate.
        if (!stored) throw new TypeError('a required value (device, ts, kind, site or sector) is missing');
        const was = { fields: JSON.parse(stored.fields) as Record<string, unknown>, extras: JSON.parse(stored.extras) as Record<string, unknown> };
        if (!sameValues(was.fields, r.fields) || !sameValues(was.extras, r.extras)) conflicts.push({ index, stored: was });
        continue;
      }
      inserted++;
      this.series.add(r, seq, flagged);
    }
    return { result: { inserted, duplicates }, flagged: [...flagged.values()], conflicts };
  }
}
