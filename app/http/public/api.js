// Reads from this server's JSON API, never from a cache; and the stream list the stream chart shows.
/* global fetch */

/** GET a JSON answer; an HTTP error status is thrown as "HTTP <status>". */
export function getJson(url) {
  return fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' }).then(function (res) {
    if (!res.ok) throw new Error('HTTP ' + res.status);
    return res.json();
  });
}

/**
 * The streams and their names come from GET /api/streams (accounting/streams/): a new stream shows up here by itself.
 * Resolves to [{ key, label }], or [] (and says so in the error box) when the list cannot be read.
 */
export function loadStreams(showError) {
  return getJson('/api/streams')
    .then(function (list) {
      return list.map(function (x) { return { key: x.id, label: x.short_en }; });
    })
    .catch(function (err) {
      showError('Could not load /api/streams: ' + err.message + '; the stream chart stays empty.');
      return [];
    });
}
