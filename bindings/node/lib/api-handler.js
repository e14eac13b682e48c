'use strict';
// An HTTP step handler on Node's fetch: Rails Tasker's StepHandler::Api for JavaScript.
//
//   class FetchCart extends tasker.ApiStepHandler {
//     async call(ctx, connection) { return connection.get('carts', { id: ctx.task.context.cart_id }); }
//   }
//
// The step's handler configuration (handler_config / handler.initialization) gives the connection: url, params
// (sent with every request), headers, timeout (seconds). A 2xx response's JSON body (else its text) is the step's
// result. 429 and 503 are retryable failures after the server's Retry-After when it sends one; any other 4xx is
// permanent; 5xx and network errors are retryable. Messages name the method, URL path and status, never query
// parameters or headers (they may carry keys).
const { StepHandler } = require('./handler');
const { PermanentError, RetryableError } = require('./errors');

const BACKOFF_STATUSES = new Set([429, 503]);
const CONFIG_KEYS = new Set(['url', 'params', 'headers', 'timeout', 'type']);

class Connection {
  constructor({ url, params = {}, headers = {}, timeout = 30 }) {
    Object.assign(this, { url, params, headers, timeout });
  }

  get(path, params, headers) { return this.#run('GET', path, params, undefined, headers); }
  delete(path, params, headers) { return this.#run('DELETE', path, params, undefined, headers); }
  post(path, body, headers) { return this.#run('POST', path, undefined, body, headers); }
  put(path, body, headers) { return this.#run('PUT', path, undefined, body, headers); }
  patch(path, body, headers) { return this.#run('PATCH', path, undefined, body, headers); }

  async #run(method, path = '', params = {}, body = undefined, headers = {}) {
    const base = this.url.endsWith('/') || !path || path.startsWith('/') ? this.url : `${this.url}/`;
    const url = new URL(path || '', base);
    for (const [key, value] of Object.entries({ ...this.params, ...params })) url.searchParams.set(key, String(value));
    const init = { method, headers: { accept: 'application/json', ...this.headers, ...headers },
      signal: AbortSignal.timeout(this.timeout * 1000) };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(url, init);
    return { status: response.status, headers: response.headers, body: await response.text(),
      requestLine: `${method} ${url.origin}${url.pathname}` };
  }
}

/** Retry-After in seconds (a number or an HTTP date); undefined when absent or unreadable (the engine's backoff). */
function retryAfter(headers) {
  const value = headers.get('retry-after');
  if (value == null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const when = Date.parse(value);
  return Number.isNaN(when) ? undefined : Math.max(0, (when - Date.now()) / 1000);
}

/** Throws the failure a non-2xx response means. */
function check(response) {
  const { status } = response;
  if (status >= 200 && status <= 226) return;
  const what = `HTTP ${status} from ${response.requestLine}`;
  if (BACKOFF_STATUSES.has(status)) throw new RetryableError(`${what}: backing off`, { retryAfter: retryAfter(response.headers) });
  if (status >= 400 && status < 500) throw new PermanentError(what);
  throw new RetryableError(what);
}

class ApiStepHandler extends StepHandler {
  /** Implement: make the request with `connection` and return its response. */
  async call(ctx, connection) {
    throw new Error(`${this.constructor.name}.call is not implemented`);
  }

  connection(ctx) {
    const config = ctx.step.initialization ?? {};
    const unknown = Object.keys(config).filter((key) => !CONFIG_KEYS.has(key)).sort();
    if (unknown.length) throw new PermanentError(`${this.constructor.name}: unknown handler config keys: ${unknown.join(', ')}`);
    if (typeof config.url !== 'string' || !/^https?:\/\//.test(config.url)) {
      throw new PermanentError(`${this.constructor.name}: handler config needs an http(s) url`);
    }
    return new Connection(config);
  }

  async process(ctx) {
    const response = await this.call(ctx, this.connection(ctx));
    check(response);
    try {
      return JSON.parse(response.body);
    } catch {
      return response.body;
    }
  }
}

module.exports = { ApiStepHandler, Connection, check, retryAfter };
