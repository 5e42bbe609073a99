import { describe, expect, it } from 'vitest';
import { planColumns, type ColumnPlan } from '../../ingest/csv/columns.js';
import { optionsToQuery, parseImportOptions, parsePeriod, type ImportOptions } from '../../ingest/csv/options.js';
import { emptyReport, mergeReports } from '../../ingest/csv/report.js';
import { RowConverter } from '../../ingest/csv/rows.js';
import { csvRecords, detectDelimiter, notCsvText, startLineOf } from '../../ingest/csv/text.js';
import { readDateAndTime, readTime } from '../../ingest/csv/times.js';

/**
 * The parts of the CSV import (ingest/csv/): times in the forms exports use, settings and columns
 * refused by name, and the conversion of per-period consumption into a cumulative series. The whole
 * path through the real service and CLI: test/integration/csv-import.test.ts.
 */

const TPE = { tz: 'Asia/Taipei' };
const ms = (t: ReturnType<typeof readTime>) => ('time' in t ? t.time.toMillis() : t.reason);
const iso = (t: ReturnType<typeof readTime>) => ('time' in t ? t.time.toUTC().toISO() : t.reason);

describe('times', () => {
  it('reads ISO 8601 with an offset without a zone, and local forms in the stated zone', () => {
    expect(iso(readTime('2023-01-01T00:15:00+08:00', {}))).toBe('2022-12-31T16:15:00.000Z');
    expect(iso(readTime('2023-01-01 00:15:00Z', {}))).toBe('2023-01-01T00:15:00.000Z');
    expect(iso(readTime('2023-01-01 00:15', TPE))).toBe('2022-12-31T16:15:00.000Z');
    expect(iso(readTime('2023/01/01 00:15', TPE))).toBe('2022-12-31T16:15:00.000Z');
    expect(iso(readTime('2023-01-01T00:15', TPE))).toBe('2022-12-31T16:15:00.000Z');
    expect(iso(readTime('2023-03-05', TPE))).toBe('2023-03-04T16:00:00.000Z');
    expect(iso(readTime('2023-03', TPE))).toBe('2023-02-28T16:00:00.000Z'); // a bill's month: the 1st, midnight
    expect(iso(readTime('2023-01-01 00:15', { tz: 'UTC+8' }))).toBe('2022-12-31T16:15:00.000Z');
  });

  it('reads epoch seconds and milliseconds by their size, within 2000–2100', () => {
    expect(ms(readTime('1672502400', {}))).toBe(1_672_502_400_000);
    expect(ms(readTime('1672502400000', {}))).toBe(1_672_502_400_000);
    expect(ms(readTime('946684799', {}))).toMatch(/read as epoch seconds is not between 2000 and 2100/);
  });

  it('24:00 is the end of the day; 24:15 and impossible dates are refused, never rolled over', () => {
    expect(iso(readTime('2024-03-01 24:00', TPE))).toBe('2024-03-01T16:00:00.000Z');
    expect(iso(readDateAndTime('2024/03/01', '24:00', TPE))).toBe('2024-03-01T16:00:00.000Z');
    expect(ms(readDateAndTime('2024/03/01', '24:15', TPE))).toMatch(/has hour 24/);
    expect(ms(readTime('2023-02-29 00:00', TPE))).toMatch(/^"2023-02-29 00:00" is not a valid date or time/);
    expect(ms(readTime('2023-13-01', TPE))).toMatch(/is not a valid date or time/);
  });

  it('a local time without a zone names tz; day/month orders that cannot be told apart name the date format', () => {
    expect(readTime('2023-01-01 00:15', {})).toEqual({ reason: expect.stringMatching(/has no UTC offset and no time zone was given/), needs: 'tz' });
    expect(readDateAndTime('2023-01-01', '00:15', {})).toMatchObject({ needs: 'tz' });
    expect(readTime('03/04/2023 00:15', TPE)).toMatchObject({ needs: 'date_format', reason: expect.stringMatching(/day\/month or month\/day cannot be told apart/) });
    expect(iso(readTime('03/04/2023 00:15', { ...TPE, format: 'dd/MM/yyyy HH:mm' }))).toBe('2023-04-02T16:15:00.000Z');
    expect(iso(readTime('03/04/2023 00:15', { ...TPE, format: 'MM/dd/yyyy HH:mm' }))).toBe('2023-03-03T16:15:00.000Z');
    expect(ms(readTime('3 Apr 2023', TPE))).toMatch(/is not a time the import reads/);
    expect(iso(readDateAndTime('03/04/2023', '00:15', { ...TPE, format: 'dd/MM/yyyy' }))).toBe('2023-04-02T16:15:00.000Z');
  });
});

describe('settings', () => {
  it('names each bad setting', () => {
    const r = parseImportOptions({ tz: 'Mars/Olympus', date_format: 'HH:mm', period: '1mo', map: 'a', colour: 'red' });
    expect('errors' in r && r.errors.map((e) => e.field).sort()).toEqual(['colour', 'date_format', 'map', 'period', 'tz']);
  });

  it('consumption needs a period; counter_start reads one value or one per counter', () => {
    expect(parseImportOptions({ consumption: '1' })).toEqual({ errors: [{ field: 'period', reason: expect.stringMatching(/is required with consumption/) }] });
    const ok = parseImportOptions({ consumption: '1', period: '1mo', period_ts: 'end', counter_start: 'import_kwh=5,export_kwh=0.5' });
    expect('options' in ok && ok.options.counterStart).toEqual({ import_kwh: 5, export_kwh: 0.5 });
    expect(parseImportOptions({ consumption: '1', period: '1mo', counter_start: '-1' })).toMatchObject({ errors: [{ field: 'counter_start' }] });
  });

  it('periods: shorthand and ISO 8601, between a minute and a year', () => {
    expect('period' in parsePeriod('15min') && parsePeriod('15min')).toMatchObject({ period: expect.anything() });
    const p = (s: string) => {
      const r = parsePeriod(s);
      return 'period' in r ? r.period.toISO() : r.error;
    };
    expect([p('15min'), p('1h'), p('1d'), p('1mo'), p('month'), p('PT15M'), p('P1M')]).toEqual(['PT15M', 'PT1H', 'P1D', 'P1M', 'P1M', 'PT15M', 'P1M']);
    expect(p('30s')).toMatch(/must be a period/);
    expect(p('PT30S')).toMatch(/between a minute and a year/);
    expect(p('2y')).toMatch(/between a minute and a year/);
  });

  it('the command line sends the settings back as the same query', () => {
    const parsed = parseImportOptions({ map: ['度數=import_kwh', '備註=-'], tz: 'Asia/Taipei', consumption: '1', period: '15min', period_ts: 'end' });
    const o = (parsed as { options: ImportOptions }).options;
    const again = parseImportOptions(Object.fromEntries(optionsToQuery(o)));
    expect((again as { options: ImportOptions }).options).toEqual(o);
  });
});

describe('columns', () => {
  const plan = (header: string[], map: Record<string, string> = {}, consumption = false) => planColumns(header, 'smart_meter', { map, consumption });

  it('names an unknown column, a missing required field, a map to a field the kind does not have', () => {
    expect(plan(['ts', 'import_kwh', 'remark'])).toEqual({ errors: [{ field: 'columns.remark', reason: expect.stringMatching(/^is not one of the smart_meter fields \(import_kwh, export_kwh, power_w\)/) }] });
    expect(plan(['ts', 'power_w'])).toEqual({ errors: [{ field: 'columns.import_kwh', reason: expect.stringMatching(/is required for a smart_meter/) }] });
    expect(plan(['ts', 'kwh'], { kwh: 'energy_kwh' })).toMatchObject({ errors: expect.arrayContaining([{ field: 'map', reason: expect.stringMatching(/energy_kwh is not one of the smart_meter fields/) }]) });
    expect(plan(['ts', 'kwh'], { kWh: 'import_kwh' })).toMatchObject({ errors: expect.arrayContaining([{ field: 'map', reason: 'column "kWh" is not in the header ("ts", "kwh")' }]) });
    expect(plan(['time', 'import_kwh'])).toMatchObject({ errors: expect.arrayContaining([{ field: 'columns.time', reason: 'a time column needs a date column' }]) });
    expect(plan(['ts', 'import_kwh', 'ts'])).toMatchObject({ errors: [{ field: 'columns.ts', reason: 'appears twice in the header (columns 1 and 3)' }] });
  });

  it('maps names, leaves out columns mapped to -, and knows the counters', () => {
    const r = plan([' 日期 ', '時間', '度數', '備註'], { 日期: 'date', 時間: 'time', 度數: 'import_kwh', 備註: '-' });
    expect('plan' in r && r.plan).toMatchObject({ date: 0, time: 1, fields: [{ index: 2, column: '度數', field: 'import_kwh', type: 'number', required: true, counter: true }] });
  });
});

describe('rows', () => {
  const converter = (header: string[], options: Partial<ImportOptions>, map: Record<string, string> = {}) => {
    const o: ImportOptions = { map, consumption: false, periodTs: 'start', ...options };
    const p = planColumns(header, 'smart_meter', o) as { plan: ColumnPlan };
    return new RowConverter(p.plan, o);
  };
  const month = (parsePeriod('1mo') as { period: NonNullable<ImportOptions['period']> }).period;
  const quarter = (parsePeriod('15min') as { period: NonNullable<ImportOptions['period']> }).period;

  it('register mode: one reading per row; numbers with thousands separators; empty optional cells left out', () => {
    const c = converter(['ts', 'import_kwh', 'power_w'], TPE);
    expect(c.convert(['2026-03-01 00:00', '"1,016.5"'.replace(/"/g, ''), ''])).toEqual({ readings: [{ ts: Date.UTC(2026, 1, 28, 16), seq: null, fields: { import_kwh: 1016.5 } }] });
    expect(c.convert(['2026-03-01 00:00', '12x4', ''])).toEqual({ errors: [{ field: 'import_kwh', reason: 'must be a number, got "12x4"' }], needs: undefined, breaks: false });
    expect(c.convert(['2026-03-01 00:00', '1'])).toMatchObject({ errors: [{ field: 'row', reason: 'has 2 cells; the header has 3' }] });
  });

  it('consumption by calendar month: the start reading, then each month added at its end (January 31 days, February 28)', () => {
    const c = converter(['ts', 'import_kwh'], { ...TPE, consumption: true, period: month });
    c.startFrom(0);
    expect(c.convert(['2023-01', '12,400'.replace(',', '')])).toEqual({
      readings: [
        { ts: Date.UTC(2022, 11, 31, 16), seq: null, fields: { import_kwh: 0 } },
        { ts: Date.UTC(2023, 0, 31, 16), seq: null, fields: { import_kwh: 12_400 } },
      ],
    });
    expect(c.convert(['2023-02', '11200'])).toEqual({ readings: [{ ts: Date.UTC(2023, 1, 28, 16), seq: null, fields: { import_kwh: 23_600 } }] });
    expect(c.position()).toEqual({ series_at: Date.UTC(2023, 1, 28, 16), counter_start: { import_kwh: 23_600 } });
  });

  it('consumption stamped at the period end (00:15 is 00:00–00:15); sums rounded to a millionth', () => {
    const c = converter(['ts', 'import_kwh'], { ...TPE, consumption: true, period: quarter, periodTs: 'end' });
    c.startFrom(100);
    const rows = ['0.1', '0.2', '0.1'].map((v, i) => c.convert([`2025-01-01 00:${String(15 * (i + 1)).padStart(2, '0')}`, v]));
    expect(rows.flatMap((r) => ('readings' in r ? r.readings.map((x) => x.fields.import_kwh) : []))).toEqual([100, 100.1, 100.3, 100.4]);
  });

  it('a gap, an overlap, a negative or unreadable period breaks the series: nothing can be made after it', () => {
    const c = converter(['ts', 'import_kwh'], { ...TPE, consumption: true, period: month });
    c.startFrom(0);
    c.convert(['2023-01', '10']);
    expect(c.convert(['2023-03', '10'])).toEqual({ errors: [{ field: 'ts', reason: expect.stringMatching(/^this period starts at 2023-02-28T16:00:00.000Z, but a gap: the previous period ended at 2023-01-31T16:00:00.000Z/) }], breaks: true });
    expect(c.convert(['2023-01', '10'])).toMatchObject({ errors: [{ reason: expect.stringMatching(/rows out of order, or overlapping/) }], breaks: true });
    expect(c.convert(['2023-02', '-5'])).toMatchObject({ errors: [{ field: 'import_kwh', reason: 'is -5: consumption in a period cannot be negative' }], breaks: true });
    expect(c.convert(['2023-02', ''])).toMatchObject({ errors: [{ reason: expect.stringMatching(/every period needs its consumption/) }], breaks: true });
  });

  it('continues a series where the previous slice of the file ended', () => {
    const c = converter(['ts', 'import_kwh'], { ...TPE, consumption: true, period: month, seriesAt: Date.UTC(2023, 1, 28, 16), counterStart: { import_kwh: 23_600 } });
    expect(c.needsStart).toBe(false);
    expect(c.convert(['2023-03', '12000'])).toEqual({ readings: [{ ts: Date.UTC(2023, 2, 31, 16), seq: null, fields: { import_kwh: 35_600 } }] });
  });
});

describe('text', () => {
  it('refuses binary and non-UTF-8 heads; finds the delimiter; counts a record from its first line', () => {
    expect(notCsvText(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0]), true)).toMatch(/NUL bytes/);
    expect(notCsvText(Buffer.from('日期,度數\n', 'utf8'), true)).toBeNull();
    expect(notCsvText(Buffer.from([0xa4, 0xe9, 0xb4, 0xc1, 0x0a]), true)).toMatch(/not UTF-8/); // 日期 in Big5
    expect(notCsvText(Buffer.from('ts,v\n2026,\xe6', 'latin1').subarray(0, 7), false)).toBeNull(); // a character cut at the end of the head
    expect([detectDelimiter('ts,import_kwh'), detectDelimiter('ts;import_kwh'), detectDelimiter('ts\timport_kwh'), detectDelimiter('ts')]).toEqual([',', ';', '\t', ',']);
    expect(startLineOf(['a\nb', 'c'], 5)).toBe(4);
  });

  it('yields every record before a quote that is never closed, then csv-parse\'s error', async () => {
    async function* chunks() {
      yield Buffer.from('ts,v\n2026-01-01T00:00:00Z,1\n\n2026-01-01T01:00:00Z,"2\n');
      yield Buffer.from('3"\n2026-01-01T02:00:00Z,"4\n');
    }
    const seen: Array<[string[], number, string]> = [];
    const reading = (async () => {
      for await (const r of csvRecords(chunks(), ',')) seen.push([r.record, r.info.lines, r.raw]);
    })();
    await expect(reading).rejects.toMatchObject({ code: 'CSV_QUOTE_NOT_CLOSED' });
    expect(seen).toEqual([
      [['ts', 'v'], 1, 'ts,v\n'],
      [['2026-01-01T00:00:00Z', '1'], 2, '2026-01-01T00:00:00Z,1\n'],
      [['2026-01-01T01:00:00Z', '2\n3'], 5, '\n2026-01-01T01:00:00Z,"2\n3"\n'], // a blank line, then a cell over two lines
    ]);
  });
});

describe('reports', () => {
  it('slices add up; lists stay bounded', () => {
    const a = { ...emptyReport('d'), rows: 2, imported: 2, lines: { first: 2, last: 3 } };
    const b = { ...emptyReport('d'), rows: 1, rejected: 1, rejected_rows: [{ line: 4, field: 'ts', reason: 'x' }], lines: { first: 4, last: 4 }, duplicates_known: false };
    expect(mergeReports(a, b)).toMatchObject({ rows: 3, imported: 2, rejected: 1, rejected_rows: [{ line: 4 }], lines: { first: 2, last: 4 }, duplicates_known: false });
  });
});
