'use strict';
// Event subscriptions: a native handle per subscription, pulled in batches, freed once (by close, by the engine's
// close, or by a FinalizationRegistry when nobody closed it).
const native = require('./native');
const { InvalidHandleError } = require('./errors');
const { event } = require('./model');

/** Frees a subscription's native handle once; wakes an iterator waiting for events. */
function releaseSubscription(resource, owned) {
  const { handle } = resource;
  if (handle === undefined) return;
  resource.handle = undefined;
  owned.delete(resource);
  resource.wake?.();
  native.subscriptionFree(handle);
}

// The held value never references the Subscription itself (that would keep it alive).
const subscriptions = new FinalizationRegistry(({ resource, owned }) => releaseSubscription(resource, owned));

/**
 * Events of one engine, pulled in batches. Iterate it with `for await` (leaving the loop closes it), or call
 * `pull()`; `dropped` counts events lost to a full buffer. Closing the engine closes its subscriptions.
 */
class Subscription {
  #engine; // keeps the engine alive as long as the subscription
  #owned;
  #resource;
  #pollInterval;
  dropped = 0;

  constructor(engine, owned, handle, pollInterval) {
    this.#engine = engine;
    this.#owned = owned;
    this.#resource = { handle, wake: undefined };
    this.#pollInterval = pollInterval;
    owned.add(this.#resource);
    subscriptions.register(this, { resource: this.#resource, owned }, this);
  }

  get closed() {
    return this.#resource.handle === undefined;
  }

  /** The events buffered now, oldest first, at most `maxEvents` (never waits). */
  pull(maxEvents = 1000) {
    const { handle } = this.#resource;
    if (handle === undefined) throw new InvalidHandleError('the subscription is closed');
    const batch = JSON.parse(native.subscriptionPull(handle, maxEvents));
    this.dropped = batch.dropped;
    return batch.events.map(event);
  }

  async* [Symbol.asyncIterator]() {
    try {
      while (!this.closed) {
        const events = this.pull();
        for (const e of events) yield e;
        if (events.length === 0 && !this.closed) {
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, this.#pollInterval);
            this.#resource.wake = () => { clearTimeout(timer); resolve(); };
          });
          this.#resource.wake = undefined;
        }
      }
    } finally {
      this.close();
    }
  }

  /** Ends the subscription and drops its buffered events. Idempotent. */
  close() {
    subscriptions.unregister(this);
    releaseSubscription(this.#resource, this.#owned);
    this.#engine = undefined;
  }

  [Symbol.dispose]() {
    this.close();
  }
}

module.exports = { Subscription, releaseSubscription };
