// JSON calls to this server's API with the session cookie (same origin). A failed call rejects with the
// server's reason (or "HTTP <status>") and its status.
/* global fetch */

function reasonOf(status, body) {
  if (body && typeof body === 'object') {
    if (Array.isArray(body.issues) && body.issues.length > 0) {
      return body.issues.map(function (i) { return i.field + ': ' + i.reason; }).join('; ');
    }
    if (body.reason) return String(body.reason);
    if (body.error) return String(body.error);
  }
  return 'HTTP ' + status;
}

/** method, path, JSON body (optional) → the answer's JSON; an error carries .status and .body. */
export function call(method, path, body, contentType) {
  const init = { method: method, headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['content-type'] = contentType || 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  return fetch(path, init).then(function (res) {
    return res.text().then(function (text) {
      let parsed = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      if (!res.ok) {
        const err = new Error(reasonOf(res.status, parsed));
        err.status = res.status;
        err.body = parsed;
        throw err;
      }
      return parsed;
    });
  });
}
