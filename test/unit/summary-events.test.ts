import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/** netzero-summary's reader of the service's `/api/live` stream (Server-Sent Events), chunk by chunk. */

const require = createRequire(import.meta.url);
const { parseEvents } = require('../../flows/nodes/netzero-summary.cjs') as {
  parseEvents: (buffer: string) => { events: Array<{ event: string; data: string }>; rest: string };
};

describe('parseEvents', () => {
  it('splits complete events and keeps the unfinished rest for the next chunk', () => {
    const { events, rest } = parseEvents('event: summary\ndata: {"a":1}\n\nevent: summary\ndata: {"a"');
    expect(events).toEqual([{ event: 'summary', data: '{"a":1}' }]);
    expect(rest).toBe('event: summary\ndata: {"a"');
    const next = parseEvents(`${rest}:2}\n\n`);
    expect(next).toEqual({ events: [{ event: 'summary', data: '{"a":2}' }], rest: '' });
  });

  it('joins data lines, reads CRLF, skips comments, and names an event without a type "message"', () => {
    expect(parseEvents(': keep-alive\r\n\r\ndata: one\r\ndata: two\r\n\r\n').events).toEqual([{ event: 'message', data: 'one\ntwo' }]);
  });
});
