import { expect } from 'vitest';
import { z } from 'zod';

/** Run `fn`, expect a ZodError, return the dotted paths of its issues. */
export function zodIssuePaths(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(z.ZodError);
    return (err as z.ZodError).issues.map((issue) => issue.path.join('.'));
  }
  throw new Error('expected a ZodError, nothing was thrown');
}

