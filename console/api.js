// The public portal API, called with the user's JWT. Same origin as the API by default; a portal team copying
// these files elsewhere sets `window.BRIDGE_API_URL` (the stage's URL) before app.js loads.
const TOKEN_KEY = "bridge.console.token";

export const apiBase = () => (window.BRIDGE_API_URL || "").replace(/\/$/, "");
export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (t) => (t ? sessionStorage.setItem(TOKEN_KEY, t) : sessionStorage.removeItem(TOKEN_KEY));

/** An API answer that is not 2xx: `status`, `code` (the bridge's stable error code, or null) and `message`. */
export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || (body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || null;
    this.details = err.details || null;
    this.body = body;
  }
  /** A 404 from the gateway itself (no such route), not the bridge's own 404 with a code. */
  get noRoute() {
    return this.status === 404 && !this.code;
  }
}

export async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${getToken()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(apiBase() + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!answer.ok) throw new ApiError(answer.status, data);
  return data;
}

export const get = (p) => call("GET", p);
export const put = (p, b) => call("PUT", p, b);
export const post = (p, b) => call("POST", p, b);
export const patch = (p, b) => call("PATCH", p, b);
export const del = (p) => call("DELETE", p);
