/** An error as it crosses between threads (structured clone keeps neither its class nor its `code`). */
export interface ThreadError {
  name: string;
  message: string;
  code?: string;
}

export function toThreadError(err: unknown): ThreadError {
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
  };
}

/** The error again, with the class and `code` that tell a reading's fault from the store's (ingest/group-commit.ts). */
export function fromThreadError(t: ThreadError): Error {
  const Cls = t.name === 'RangeError' ? RangeError : t.name === 'TypeError' ? TypeError : t.name === 'SyntaxError' ? SyntaxError : Error;
  const err = new Cls(t.message);
  if (t.code !== undefined) Object.assign(err, { code: t.code });
  return err;
}
