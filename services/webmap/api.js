// Requests to this server. Every URL is relative to the server's root, found from this
// module's own address (/map/static/api.js), so the map also works behind a path prefix.
import { bothLanguages } from './i18n.js';
import { authHeaders } from './auth.js'; // the reader's key, if signed in (issue 18)

export const ROOT = new URL('../../', import.meta.url);

export function url(path, params = {}) {
  const u = new URL(path.replace(/^\//, ''), ROOT);
  Object.entries(params).forEach(([key, value]) => u.searchParams.set(key, value));
  return u.href;
}

/** An error to show the reader: {fr, en} texts (the server's OGC exceptions carry both). */
export class ApiError extends Error {
  constructor(texts, status) {
    super(texts.en);
    this.texts = texts;
    this.status = status;
  }
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the generic text below
  }
  if (body && body.description_fr && body.description_en) {
    return new ApiError({ fr: body.description_fr, en: body.description_en }, response.status);
  }
  return new ApiError(bothLanguages('httpError', { status: response.status }), response.status);
}

async function request(path, options = {}, params = {}) {
  let response;
  try {
    response = await fetch(url(path, params), options);
  } catch {
    throw new ApiError(bothLanguages('networkError'), 0);
  }
  if (!response.ok) throw await failure(response);
  return response.json();
}

export function getJSON(path, params = {}) {
  return request(path, { headers: { Accept: 'application/json', ...authHeaders() } }, params);
}

/** Run an OGC API process synchronously; the processes answer in under 3 s. */
export function execute(processId, inputs) {
  return request(`processes/${processId}/execution`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authHeaders() },
    body: JSON.stringify({ inputs }),
  });
}
