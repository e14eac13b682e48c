/*
 * tasker.h — the C API of Tasker Native (libtasker).
 *
 * Tasker Native is an embeddable DAG workflow engine. This header is the whole public surface of the shared
 * library `libtasker.so` (`libtasker.dylib`, `tasker.dll`); the Python, Ruby and Node bindings are thin wrappers
 * over exactly these functions. It is written by hand and is authoritative: scripts/abi-parity.sh fails the build
 * when the library's exports, their C# signatures or a binding's declarations drift from it.
 *
 * ===========================================================================================================
 * OVERVIEW
 * ===========================================================================================================
 *
 * An engine holds task templates (DAGs of steps) and tasks created from them. The host pulls work; the engine
 * never calls back into the host (there are no callbacks on the step path, so no thread of the library ever runs
 * host code):
 *
 *     tasker_engine_open(config)                         -> engine
 *     tasker_template_register(engine, yaml)
 *     tasker_task_create(engine, request)                -> {"created", "task": {"task_uuid", ...}}
 *     tasker_steps_claim(engine, {"task_uuid", "handlers": [the handlers this host runs]})
 *                                                        -> {"claims": [...], "outcome": {...}}
 *     while claims remain:
 *         run the handler named by claim.step.handler (before claim.deadline_at, if any), then report it and ask for
 *         the next claims in the same call:
 *             tasker_step_complete(engine, {task_uuid, step_uuid, claim_token, result, claim_next: {...}})
 *          or tasker_step_fail(engine, {task_uuid, step_uuid, claim_token, error, claim_next: {...}})
 *                                                        -> {"claims": [...next...], "outcome": {...}}
 *     follow the last outcome: re-drive the task after outcome.requeue_after_seconds, or not at all when it is null
 *         ("execute" -> 0; "reenqueue" -> its delay: a retry time, or ready steps only other workers can run;
 *          "wait" -> null: steps are in flight elsewhere; "complete" / "error" / "cancelled" -> null: finished)
 *     tasker_engine_close(engine)                        (or tasker_engine_free, which reports nothing)
 *
 * docs/c-abi.md is the guide (building, linking, a minimal host); examples/c/order_fulfillment.c is a whole host.
 *
 * ===========================================================================================================
 * OWNERSHIP
 * ===========================================================================================================
 *
 * - Inputs are borrowed for the duration of the call; the library keeps no pointer to them.
 * - Every object the library creates is owned by the caller and released by exactly one function:
 *       tasker_engine_t       -> tasker_engine_free (or tasker_engine_close, which also reports failures)
 *       tasker_subscription_t -> tasker_subscription_free
 *       tasker_error_t        -> tasker_error_free
 *       tasker_bytes_t        -> tasker_bytes_free
 * - Every *_free function accepts NULL and returns nothing, like free(): a destructor cannot fail. The one release
 *   that can fail on the way out (an engine flushing its store and telemetry) has its own call, tasker_engine_close.
 * - Handles (engines, subscriptions, errors) are not pointers but generation-checked entries of a table inside the
 *   library, tagged with their kind. Using a handle after it was freed, or passing one kind where another is
 *   expected, returns TASKER_ERROR_INVALID_HANDLE instead of corrupting memory; freeing one twice does nothing.
 *   Never dereference a handle.
 * - tasker_bytes_t is a plain struct: pass the address of one initialized to {NULL, 0}; free what the library put
 *   there with tasker_bytes_free, which resets it to {NULL, 0} (so a second free is harmless).
 * - On failure, out-parameters are left empty (NULL handle, {NULL, 0} bytes): freeing them is always safe, and
 *   there is nothing to free.
 *
 * ===========================================================================================================
 * ERRORS
 * ===========================================================================================================
 *
 * Every fallible function returns `tasker_error_t *`: NULL on success, otherwise an error object the caller owns.
 * Read it with tasker_error_code, tasker_error_message (for people) and tasker_error_details (a JSON object of
 * strings, for programs) and free it with tasker_error_free. There is no thread-local "last error": an error
 * belongs to the call that returned it, whichever thread it ran on. No exception or signal ever crosses this
 * boundary; an unexpected failure inside the library is reported as TASKER_ERROR_INTERNAL.
 *
 * A failed call changes nothing, except where a function's documentation says otherwise.
 *
 * Errors every function may return (each function's documentation lists only the others):
 *   TASKER_ERROR_INVALID_HANDLE    the engine or subscription is NULL, freed, or another kind of handle.
 *   TASKER_ERROR_INVALID_ARGUMENT  an out_* pointer is NULL; `data` is NULL with a non-zero `len`; an input is
 *                                  larger than TASKER_MAX_INPUT_BYTES; a request is not a JSON object; a required
 *                                  field is missing, or a field has the wrong type or is out of range; text
 *                                  or a JSON string that would be stored holds U+0000 (a NUL).
 *                                  details: {"field": "<the field>"}.
 *   TASKER_ERROR_INVALID_UTF8      an input is not valid UTF-8 (overlong forms and surrogates included).
 *   TASKER_ERROR_INVALID_JSON      an input is not one well-formed JSON value, or nests deeper than 64 levels.
 *                                  details: {"what", "line", "byte_in_line"}.
 *   TASKER_ERROR_DATABASE          (PostgreSQL engines) the database failed or is unreachable. The message never
 *                                  contains the password. details: {"operation", "sqlstate"} where known.
 *   TASKER_ERROR_TIMEOUT           (PostgreSQL engines) a database operation exceeded its time limit.
 *   TASKER_ERROR_INTERNAL          a bug in tasker. details: {"exception": "<type>"}.
 *
 * ===========================================================================================================
 * STRINGS AND JSON
 * ===========================================================================================================
 *
 * - Text and JSON cross as UTF-8 `(const uint8_t *data, size_t len)`. The length is authoritative: the library
 *   never scans for a NUL terminator, and an embedded NUL is data (which makes JSON malformed). `data` may be NULL
 *   only when `len` is 0. Where an input is a JSON object, an empty input means {}.
 * - Limits: TASKER_MAX_INPUT_BYTES (64 MiB) per input, checked before the input is read; JSON nesting up to 64
 *   levels; templates up to 4 MiB and 100,000 steps (see docs/c-abi.md).
 * - JSON field names are snake_case. Readers ignore fields they do not know, so newer libraries and hosts can add
 *   fields. Optional fields may be absent or null. Times are RFC 3339 strings in UTC; uuids are strings in the
 *   canonical 8-4-4-4-12 form.
 * - Outputs are `tasker_bytes_t`: `len` bytes of UTF-8 JSON (compact, no insignificant whitespace), followed by a
 *   NUL that is not counted in `len`, so C code may also treat `data` as a C string.
 * - The JSON shapes are given with each function below; docs/c-abi.md repeats them in one place.
 *
 * ===========================================================================================================
 * THREAD SAFETY
 * ===========================================================================================================
 *
 * - Every function may be called from any thread, concurrently, with the same engine handle: the engine serializes
 *   changes per task (a lock per task in memory; row locks with PostgreSQL), and exactly one of several concurrent
 *   callers wins a claim or finalizes a task.
 * - A subscription may be pulled from any thread; concurrent pulls each receive different events.
 * - An error object or a bytes buffer must not be freed while another thread still reads it.
 * - Freeing an engine while other threads are inside calls on it does not crash or corrupt memory: those calls
 *   finish or return an error; every later call with the handle fails with TASKER_ERROR_INVALID_HANDLE.
 * - Calls on a PostgreSQL engine block the calling thread for their database round trips. Bindings run them off
 *   their event loop, or with the interpreter lock released.
 *
 * ===========================================================================================================
 * VERSIONING
 * ===========================================================================================================
 *
 * - TASKER_VERSION is the release (semantic versioning); tasker_version() is the library's.
 * - TASKER_ABI_VERSION changes whenever a signature, a struct or a JSON shape changes incompatibly. Adding a
 *   function, an optional request field or an output field is compatible. Check it when the library is loaded:
 *       if (tasker_abi_version() != TASKER_ABI_VERSION) { ... refuse to run ... }
 * - Error codes are append-only: new codes may appear (treat an unknown code like TASKER_ERROR_INTERNAL);
 *   existing values never change meaning.
 *
 * ===========================================================================================================
 * PROCESS CONSTRAINTS
 * ===========================================================================================================
 *
 * - The library contains a .NET runtime (NativeAOT), started on the first call. It is linked with -z nodelete:
 *   dlclose() does not unload it, and it must not be unloaded.
 * - Do not use the library in a child process after fork(): the runtime's threads do not survive fork. Open
 *   engines in each worker process after it forks (see the bindings' docs for Sidekiq, Puma and Celery hooks);
 *   a process that forks and then execs is fine.
 * - The library installs no signal handlers a host needs to know about, and writes nothing to stdout or stderr
 *   unless asked to (the "console" telemetry exporter, "log": {"sink": "stderr"}).
 */
#ifndef TASKER_H
#define TASKER_H

#include <stddef.h>
#include <stdint.h>

/* TASKER_API marks the exported functions. TASKER_BUILDING is only defined when building the library itself. */
#if defined(_WIN32)
#  if defined(TASKER_BUILDING)
#    define TASKER_API __declspec(dllexport)
#  else
#    define TASKER_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define TASKER_API __attribute__((visibility("default")))
#else
#  define TASKER_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------------------------
 * Versions and limits
 * ---------------------------------------------------------------------------------------------------------- */

#define TASKER_VERSION_MAJOR 0
#define TASKER_VERSION_MINOR 1
#define TASKER_VERSION_PATCH 0
#define TASKER_VERSION "0.1.0"

/** The ABI this header describes; compare with tasker_abi_version() when loading the library. */
#define TASKER_ABI_VERSION 2

/** The largest text or JSON input the library accepts, in bytes (64 MiB). */
#define TASKER_MAX_INPUT_BYTES (64u * 1024u * 1024u)

/**
 * The library's version, e.g. "0.1.0": static, NUL-terminated; never free it. Never fails; any thread.
 * The first call into the library starts its runtime (a few milliseconds).
 */
TASKER_API const char *tasker_version(void);

/** The ABI version the library was built with (TASKER_ABI_VERSION of its header). Never fails; any thread. */
TASKER_API uint32_t tasker_abi_version(void);

/* ----------------------------------------------------------------------------------------------------------
 * Types
 * ---------------------------------------------------------------------------------------------------------- */

/** An engine: templates, tasks and a store (memory or PostgreSQL). Opaque; free with tasker_engine_free. */
typedef struct tasker_engine tasker_engine_t;

/** An event subscription of one engine. Opaque; free with tasker_subscription_free. */
typedef struct tasker_subscription tasker_subscription_t;

/** An error returned by a call. Opaque; free with tasker_error_free. */
typedef struct tasker_error tasker_error_t;

/**
 * Owned output data: `len` bytes of UTF-8 (JSON), followed by a NUL that `len` does not count.
 * Initialize to {NULL, 0} before passing its address; free with tasker_bytes_free.
 */
typedef struct tasker_bytes {
    const uint8_t *data;
    size_t len;
} tasker_bytes_t;

/* ----------------------------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------------------------------- */

/** Error codes, as returned by tasker_error_code. Append-only: values never change meaning. */
typedef enum tasker_error_code {
    TASKER_OK = 0,
    TASKER_ERROR_INVALID_ARGUMENT = 1, /**< a NULL pointer, a missing or ill-typed field, an input too large */
    TASKER_ERROR_INVALID_HANDLE = 2,   /**< a NULL, freed or wrong-kind handle */
    TASKER_ERROR_INVALID_UTF8 = 3,     /**< text that is not UTF-8 */
    TASKER_ERROR_INVALID_JSON = 4,     /**< malformed JSON (details give the line and byte) */
    TASKER_ERROR_NOT_FOUND = 5,        /**< unknown template, version, task or step; details {"kind", "key"} */
    TASKER_ERROR_CONFLICT = 6,         /**< a concurrent change won: the call may be repeated */
    TASKER_ERROR_INVALID_DAG = 7,      /**< duplicate or unknown step names, a cycle (named), no steps */
    TASKER_ERROR_INVALID_STATE = 8,    /**< an illegal transition; details name both states */
    TASKER_ERROR_STALE_CLAIM = 9,      /**< the claim token is not current: the call changed nothing */
    TASKER_ERROR_DATABASE = 10,        /**< PostgreSQL failed or is unreachable (no secrets in the message) */
    TASKER_ERROR_TIMEOUT = 11,         /**< an operation exceeded its time limit */
    TASKER_ERROR_INTERNAL = 12,        /**< a bug in tasker */
    TASKER_ERROR_ABI_MISMATCH = 13     /**< never returned by the library: for bindings whose ABI check fails */
} tasker_error_code_t;

/**
 * The error's code, a tasker_error_code_t value (returned as int32_t so the ABI does not depend on enum size).
 * TASKER_ERROR_INVALID_HANDLE for NULL, a freed error or another kind of handle. Any thread.
 */
TASKER_API int32_t tasker_error_code(const tasker_error_t *error);

/**
 * A single-line message for people (UTF-8, NUL-terminated). Borrowed: valid until tasker_error_free of this
 * error. "" for NULL, a freed error or another kind of handle. Messages never contain passwords or whole task
 * contexts.
 */
TASKER_API const char *tasker_error_message(const tasker_error_t *error);

/**
 * Details for programs: a JSON object whose values are strings (NUL-terminated), e.g. {"field": "task_uuid"},
 * {"step_name": "b", "reason": "..."} or {"template": "t", "cycle": "a -> b -> a"}. Borrowed: valid until
 * tasker_error_free of this error. "{}" when there are none, and for NULL, freed or wrong-kind handles.
 */
TASKER_API const char *tasker_error_details(const tasker_error_t *error);

/**
 * Frees an error and the strings borrowed from it. Accepts NULL; freeing twice, or passing another kind of
 * handle, does nothing. Not while another thread reads the error's message or details.
 */
TASKER_API void tasker_error_free(tasker_error_t *error);

/**
 * Frees an output buffer and resets it to {NULL, 0}. Accepts NULL and an empty or already-freed buffer. `bytes`
 * must have been filled by this library (its `data` is released with the library's allocator, not free()).
 */
TASKER_API void tasker_bytes_free(tasker_bytes_t *bytes);

/* ----------------------------------------------------------------------------------------------------------
 * Engines
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * Opens an engine.
 *
 * config_json, config_len: a JSON object, every field optional; empty (NULL, 0) means {}: the embedded memory
 * store with the defaults shown.
 *   {"database_url": "postgres://user:pass@host:5432/db",   PostgreSQL store; absent = the memory store
 *    "schema": "tasker",            PostgreSQL schema (default: the connection's search_path)
 *    "pool_size": 20,               PostgreSQL connections this engine may open (1-1000)
 *    "migrate": true,               apply pending migrations when opening (PostgreSQL)
 *    "announce_tasks": true,        PostgreSQL: a created task's NOTIFY carries the task (its uuid, template and
 *                                   step uuids; never its context or other request data), and a waiting worker
 *                                   claims it from that in one round trip instead of two; the claim checks the
 *                                   copy against the database (LISTEN and NOTIFY need no privilege, so anyone who
 *                                   can connect could send one); false: workers find new tasks instead
 *    "durable_claims": false,       PostgreSQL: true makes a write that only claims steps wait for its commit to
 *                                   reach disk like every other write; false saves a waiting worker that wait (a
 *                                   claim lost to a database crash is refused at report as a stale claim and the
 *                                   step runs again, its attempt uncounted; only from synchronous_commit = on
 *                                   without a synchronous standby)
 *    "max_attempts": 3,             attempts per step when its template does not say
 *    "backoff": {"base_seconds": 1, "max_seconds": 300, "jitter": 0.1},
 *    "lease_seconds": 300,          how long a claim lasts without a heartbeat
 *    "missing_handler_requeue_seconds": 5,   when ready steps wait only for handlers the caller lacks, the
 *                                   outcome says "reenqueue" after this long (another worker may have them)
 *    "work_poll_seconds": 1,        how often a waiting tasker_work_claim looks for work without a wake-up
 *    "work_affinity_seconds": 0.1,  PostgreSQL: for this long after a worker claims a step of a task, other
 *                                   work claims leave the task's other ready steps to that worker's report
 *                                   (claim_next), whose write would otherwise lose a race; 0: no affinity
 *    "retention": {"max_finished_tasks": 10000,    memory store: finished tasks kept (oldest dropped first)
 *                  "finished_task_days": 30},      PostgreSQL: delete tasks finished (complete, cancelled,
 *                                   resolved) longer ago, with their audit trail, every 10 minutes in small
 *                                   batches; absent = keep them (tasks in error are always kept)
 *    "event_buffer": 10000,         default capacity of a subscription
 *    "clock": "system",             or "manual": time moves only with tasker_engine_advance_clock (tests)
 *    "random_seed": 42,             seed for the backoff jitter (default: random)
 *    "environment": "production",   which `environments:` entry templates get at registration (default: the
 *                                   first of TASKER_ENV, RAILS_ENV, APP_ENV that is set; none: no entry applies)
 *    "telemetry": {"exporter": "otlp"},   or "console" (nothing else); default: the OTEL_* environment decides
 *    "log": {"level": "warning",    trace, debug, information, warning, error, critical or none
 *            "sink": "none"}}       "stderr": one line per record; "events": "log.<level>" events to pull
 *                                   with a subscription (pattern "log.*"); never contexts, results or secrets
 * out_engine: on success, the new engine; on failure, NULL.
 *
 * Errors: DATABASE when PostgreSQL is unreachable or a migration fails; TIMEOUT.
 */
TASKER_API tasker_error_t *tasker_engine_open(const uint8_t *config_json, size_t config_len,
                                              tasker_engine_t **out_engine);

/**
 * Shuts an engine down: releases its store (and its PostgreSQL connections), flushes its telemetry, and releases the
 * handle, even when it reports an error. Accepts NULL (returns NULL). The engine's subscriptions stay valid handles
 * that receive nothing more; free them too.
 *
 * Errors: INVALID_HANDLE when the engine was already closed or freed (nothing happens); DATABASE when the store
 * failed to close cleanly (the handle is released all the same).
 */
TASKER_API tasker_error_t *tasker_engine_close(tasker_engine_t *engine);

/**
 * Releases an engine like tasker_engine_close, without reporting anything (a destructor). Accepts NULL; an engine
 * already closed or freed is ignored.
 */
TASKER_API void tasker_engine_free(tasker_engine_t *engine);

/**
 * Applies pending PostgreSQL migrations: safe to run from several processes at once, and a no-op when the schema
 * is current. A no-op for the memory store. Engines opened with "migrate": true (the default) already did this.
 *
 * Errors: DATABASE (details: {"migration"} when a migration failed).
 */
TASKER_API tasker_error_t *tasker_engine_migrate(tasker_engine_t *engine);

/**
 * Moves the clock of an engine opened with "clock": "manual" forward by `milliseconds`, so tests follow retry
 * delays and lease expiry without sleeping.
 *
 * Errors: INVALID_STATE when the engine has the system clock; INVALID_ARGUMENT when `milliseconds` is negative
 * (time never goes back) or more than 100 years.
 */
TASKER_API tasker_error_t *tasker_engine_advance_clock(tasker_engine_t *engine, int64_t milliseconds);

/**
 * Health and statistics, e.g. for a /health endpoint.
 *
 * out_json: {"healthy": true, "error": null, "expired_leases": 0, "retries_due": 0, "store": "memory",
 *            "tasks": {"<state>": count, ...}, "steps": {"<state>": count, ... (steps of unfinished tasks)},
 *            "oldest_unfinished_task_created_at": time | null,
 *            "pool_in_use": 1, "pool_size": 20 (PostgreSQL only),
 *            "ready_steps_by_handler": {"<handler>": count, ...}   ready steps nobody holds, by the handler they
 *                                      wait for (at most 10,000 steps counted),
 *            "memory": {"heap_size_bytes": n, "committed_bytes": n, "fragmented_bytes": n,
 *                       "total_allocated_bytes": n, "gc_counts": {"gen0": n, "gen1": n, "gen2": n},
 *                       "gc_pause_time_percent": 0.12}}
 *
 * "memory" is the library's own managed heap, apart from the host's: its size after the last collection, the
 * memory its GC has committed from the OS (the library's share of the process's RSS, besides code and native
 * buffers), free space inside it, bytes allocated since the process started, collections per generation (a gen1
 * or gen2 collection also counts as gen0) and the share of time spent paused in collections (figures as of the
 * last collection; before the first one, committed and fragmented bytes are 0). It is process-wide:
 * every engine in the process reports the same heap. Always present, also when the store is unreachable.
 *
 * An unreachable database is reported as "healthy": false with an "error" message, not as a returned error.
 */
TASKER_API tasker_error_t *tasker_engine_health(tasker_engine_t *engine, tasker_bytes_t *out_json);

/* ----------------------------------------------------------------------------------------------------------
 * Templates
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * Parses, validates and registers a task template: YAML or JSON, in the core format or the Rails Tasker
 * `step_templates` format (docs/templates.md). Registering another version of a template keeps the others;
 * registering the same namespace, name and version again replaces it for tasks created afterwards.
 *
 * text, len: the template (UTF-8).
 * out_template_json: {"namespace": "...", "name": "...", "version": "1.0.0", "steps": ["<step name>", ...],
 *                     "description", "module_namespace", "task_handler_class", "concurrent",
 *                     "default_dependent_system", "named_steps", "environment": the ones the template has (the
 *                     environment whose overrides were applied),
 *                     "has_input_schema": true|false,
 *                     "step_details": [{"name", "handler", "description"?, "dependent_system"?, "skippable",
 *                                       "dependencies": [...]}, ...]}
 *                   Handler configuration is never echoed: it may hold values filled from ${VAR} placeholders.
 *
 * The engine's "environment" selects the template's `environments:` entry, deep-merged over its steps; ${VAR}
 * placeholders in handler configuration are then filled from the process environment (docs/templates.md).
 *
 * Errors: INVALID_ARGUMENT for malformed YAML (with line and column), a missing name or handler, a version that is
 * not SemVer 2.0, a key the engine does not know (details {"field", "suggestion"}: the closest known key), named_steps
 * that disagree with the steps, an environment variable that is not set (details {"variable"}; never its value), or
 * an invalid input_schema / schema; INVALID_DAG for duplicate step names, unknown dependencies, a cycle or no steps
 * (the message and details name them: "duplicate_steps", "unknown_dependencies", "cycle").
 */
TASKER_API tasker_error_t *tasker_template_register(tasker_engine_t *engine, const uint8_t *text, size_t len,
                                                    tasker_bytes_t *out_template_json);

/* ----------------------------------------------------------------------------------------------------------
 * Tasks
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * Creates a task from a registered template.
 *
 * request_json: {"namespace": "fulfillment", "name": "order_fulfillment",   required
 *                "version": "1.0.0",            default: the newest registered version
 *                "context": {...},              the task's input, validated against the template's input_schema
 *                "initiator": "...", "source_system": "...", "reason": "...", "tags": ["..."], "priority": 0,
 *                "idempotency_key": "...", "correlation_id": "...",
 *                "traceparent": "00-<trace id>-<span id>-01",   the creator's W3C trace context (see below)
 *                "bypass_steps": ["<step name>", ...],   skippable steps not to run: completed at creation with
 *                                                 no result, metadata {"bypassed": true} and no attempt counted
 *                "requested_at": "2026-01-31T10:00:00Z"}   when the host asked for the task (default: now)
 * out_json: {"created": true, "task": <task, as tasker_task_get returns it>}
 *
 * Tracing: a "traceparent" given here is stored with the task; the spans of all its step attempts (whichever
 * process runs them) and of the finished task join that trace. Every other JSON request also accepts a
 * "traceparent": the parent of the spans that call records, winning over the task's. Malformed: INVALID_ARGUMENT.
 *
 * With an idempotency key (or a template with identity_strategy: strict), repeating a request returns the
 * existing task with "created": false.
 *
 * Errors: NOT_FOUND for an unknown template or version; INVALID_ARGUMENT when the context fails the template's
 * input_schema (details: {"schema_errors"}, the violations by path), when bypass_steps names a step that does not
 * exist or is not skippable, or requested_at is not an ISO 8601 time; CONFLICT when a concurrent create of the same
 * identity won (PostgreSQL; repeat the call to get that task).
 */
TASKER_API tasker_error_t *tasker_task_create(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                              tasker_bytes_t *out_json);

/**
 * A task with its steps and its audit trail.
 *
 * task_uuid, len: the task's uuid as text (not JSON).
 * out_task_json:
 *   {"task_uuid", "namespace", "name", "version", "state", "context", "tags", "priority", "initiator",
 *    "source_system", "reason", "correlation_id", "idempotency_key", "created_at", "requested_at", "updated_at",
 *    "finished_at",
 *    "steps": [{"step_uuid", "name", "handler", "state", "attempts", "max_attempts", "retryable", "result",
 *               "metadata", "error": null | {"message", "error_type", "permanent", "attempt", "at", "backtrace"},
 *               "next_retry_at", "lease_expires_at", "dependencies": ["<step name>", ...],
 *               "readiness": {"ready", "waiting_on": ["<step name>", ...], "retry_at", "attempts_exhausted"}}],
 *    "waiting_for_handlers": [{"handler": "C", "steps": ["c", ...]}, ...]   the steps whose readiness.ready is true
 *                            (unclaimed and claimable as of the task's last evaluation) by the handler they wait
 *                            for, in step order,
 *    "transitions": [{"step_name" (null for the task), "from", "to", "reason", "actor", "at", "attempt"}]}
 * Task states: pending, in_progress, waiting_for_retry, complete, error, cancelled, resolved_manually. Step
 * states: the same; a dependency is satisfied by complete or resolved_manually.
 *
 * Errors: INVALID_ARGUMENT when task_uuid is not a uuid; NOT_FOUND.
 */
TASKER_API tasker_error_t *tasker_task_get(tasker_engine_t *engine, const uint8_t *task_uuid, size_t len,
                                           tasker_bytes_t *out_task_json);

/**
 * Lists tasks, newest first.
 *
 * query_json (may be empty): {"state": "complete", "namespace": "...", "name": "...", "limit": 100 (0-10000)}
 * out_json: {"tasks": [{"task_uuid", "namespace", "name", "version", "state", "created_at", "updated_at"}]}
 *
 * Errors: INVALID_ARGUMENT for an unknown state or a limit out of range.
 */
TASKER_API tasker_error_t *tasker_task_list(tasker_engine_t *engine, const uint8_t *query_json, size_t len,
                                            tasker_bytes_t *out_json);

/**
 * Evaluates a task (expiring stale leases first) and, when nothing can progress any more, finalizes it.
 * Idempotent: the host calls it to decide what to do with a task, e.g. when its queue job runs.
 *
 * task_uuid, len: the task's uuid as text (not JSON).
 * out_outcome_json, the outcome every step and task call returns:
 *   {"task_uuid", "task_state",
 *    "execution_status": "has_ready_steps" | "processing" | "waiting_for_retry" | "blocked_by_failures" |
 *                        "all_complete",
 *    "action": "execute" | "reenqueue" | "wait" | "complete" | "error" | "cancelled",
 *    "delay_seconds": number (with "reenqueue") | null,
 *    "ready_steps": n, "in_progress_steps": n,
 *    "finalized": true only in the one call that moved the task to its final state,
 *    "requeue_after_seconds": number | null   the one rule for a host's queue: re-drive the task after this many
 *                             seconds (0 with "execute", the delay with "reenqueue"), or not at all (null),
 *    "waiting_for_handlers": [{"handler": "C", "steps": ["c", ...]}, ...]   ready steps the caller could not claim
 *                             because it did not name their handler (empty when it named none). When only such
 *                             steps are ready, the action is "reenqueue" after "missing_handler_requeue_seconds".}
 *
 * Errors: INVALID_ARGUMENT when task_uuid is not a uuid; NOT_FOUND.
 */
TASKER_API tasker_error_t *tasker_task_evaluate(tasker_engine_t *engine, const uint8_t *task_uuid, size_t len,
                                                tasker_bytes_t *out_outcome_json);

/**
 * Retries a task in error: its failed and cancelled steps return to pending with fresh attempts; completed steps
 * keep their results and do not run again. Retrying a task that is still pending is a no-op.
 *
 * request_json: {"task_uuid": "...", "actor": "...", "reason": "..."} (actor and reason go to the audit trail)
 * out_outcome_json: an outcome (see tasker_task_evaluate).
 *
 * Errors: NOT_FOUND; INVALID_STATE when the task cannot be retried (complete, cancelled).
 */
TASKER_API tasker_error_t *tasker_task_retry(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                             tasker_bytes_t *out_outcome_json);

/**
 * Cancels a task and all its unfinished steps; claims in flight become stale. Cancelling twice is a no-op.
 *
 * request_json: {"task_uuid": "...", "actor": "...", "reason": "..."}
 * out_outcome_json: an outcome (see tasker_task_evaluate), action "cancelled".
 *
 * Errors: NOT_FOUND; INVALID_STATE when the task is already complete or in error (details: {"from", "to"}).
 */
TASKER_API tasker_error_t *tasker_task_cancel(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                              tasker_bytes_t *out_outcome_json);

/**
 * Work nobody is driving, for the host to re-enqueue (e.g. from a periodic job): steps whose lease expired (their
 * worker crashed), tasks whose retry time has come, ready steps nobody claimed for longer than
 * unclaimed_after_seconds (naming the handler each waits for: no worker runs it, or nobody drove the task), and
 * tasks left pending (created, or retried/resolved by an operator) that nobody drove for longer than
 * pending_after_seconds. At most "limit" of each list, oldest first.
 *
 * request_json (may be empty): {"limit": 100 (1-10000), "unclaimed_after_seconds": 300, "pending_after_seconds": 300}
 * out_json: {"expired_leases": [{"task_uuid", "step_uuid", "step_name", "lease_expires_at"}],
 *            "retry_due": [{"task_uuid", "next_retry_at"}],
 *            "unclaimed_steps": [{"task_uuid", "step_uuid", "step_name", "handler", "ready_since"}],
 *            "undriven_tasks": [{"task_uuid", "namespace", "name", "pending_since"}],
 *            "task_uuids": ["<every task above, once>", ...]}
 */
TASKER_API tasker_error_t *tasker_stale_work_list(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                                  tasker_bytes_t *out_json);

/* ----------------------------------------------------------------------------------------------------------
 * Steps
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * Atomically claims up to max_steps ready steps of a task and moves them to in_progress. The attempt is counted
 * now. Each claim carries a token (needed to report the step) and a lease (extend it with tasker_step_heartbeat;
 * when it expires the step can be claimed again).
 *
 * request_json: {"task_uuid": "...", "max_steps": 16 (0-10000), "lease_seconds": 300 (up to 604800),
 *                "worker_id": "host-1" (recorded as the actor), "traceparent": "..." (optional),
 *                "handlers": ["ValidateOrder", ...]}
 *   "handlers" names the handlers the caller can run: only steps naming one of them are claimed. Ready steps of
 *   other handlers stay ready (they are never failed for it) and the outcome lists them in "waiting_for_handlers".
 *   Without "handlers" (or null) the caller runs every handler.
 *   "lean": true (optional, also in a report's "claim_next") is for a caller that holds the task already (a step
 *   loop going on with one task): each claim's "task" is {"task_uuid", "context", "tags"} (no namespace, name,
 *   version), and "outcome" is null when this answer's "claims" is not empty (it is written when no step is
 *   claimed). About half a step's answer otherwise.
 * out_json: {"claims": [{"task": {"task_uuid", "namespace", "name", "version", "context", "tags"},
 *                        "step": {"step_uuid", "name", "handler", "attempt", "max_attempts", "initialization"},
 *                        "dependency_results": {"<parent step name>": <its result>, ...},
 *                        "claim_token": "...", "lease_expires_at": "...",
 *                        "deadline_at": "..." | null, "steps_left": 0}],
 *            "outcome": <outcome, see tasker_task_evaluate>}
 *   "deadline_at" is the step's timeout_seconds after the claim: the lease never runs past it, a report after it
 *   is STALE_CLAIM, and the attempt fails as a retryable "Timeout" (whether or not the host noticed).
 *   "steps_left" counts the task's other unfinished steps (pending, waiting_for_retry, in_progress) at the claim.
 *   0 means this is the task's last step: once it completes, its report's claim_next finds nothing, so a worker
 *   with a fixed number of slots can hand this step's slot to its next work claim as soon as the handler returns,
 *   while the report is still on its way. (A failure may still claim the step's own retry.)
 *
 * No ready step is not an error: "claims" is empty and the outcome says why.
 * Errors: INVALID_ARGUMENT when task_uuid is not a uuid; NOT_FOUND.
 */
TASKER_API tasker_error_t *tasker_steps_claim(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                              tasker_bytes_t *out_json);

/**
 * Worker mode: claims up to max_steps ready steps of the caller's handlers across all tasks, highest task priority
 * first, then oldest task first (a step due for retry, or whose lease expired, ranks at that time), waiting up to
 * wait_seconds for work to appear (blocking the calling thread; call it from a worker thread). Its answer is never
 * lean (the claims are of any task: "lean" is ignored here). Every rule of tasker_steps_claim holds: attempts are counted now, each claim has a token,
 * a lease and its deadline_at, and only its token can report the step (with claim_next, to go on with that task).
 * Work created or made ready in this process wakes a waiting call at once; on PostgreSQL, other processes announce
 * theirs with NOTIFY and a poll every "work_poll_seconds" (engine config, default 1) covers a lost notification.
 *
 * request_json: {"handlers": ["ValidateOrder", ...] (required, at least one), "max_steps": 16 (0-10000),
 *                "namespaces": ["fulfillment", ...] (optional), "lease_seconds", "worker_id",
 *                "wait_seconds": 0 (0-60)}
 * out_json: {"claims": [<claim, as in tasker_steps_claim>, ...]} (empty when nothing was ready in time)
 *
 * Errors: INVALID_ARGUMENT when handlers is missing or empty, or wait_seconds is out of range.
 */
TASKER_API tasker_error_t *tasker_work_claim(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                             tasker_bytes_t *out_json);

/**
 * Extends a claim's lease, for handlers that run longer than the lease. Never past the claim's deadline_at.
 *
 * request_json: {"task_uuid", "step_uuid", "claim_token", "lease_seconds": 300 (default: the engine's)}
 * out_json: {"lease_expires_at": "..."}
 *
 * Errors: STALE_CLAIM when the token is not current (the lease expired and the step was claimed again, or the
 * step is no longer in progress, or its deadline passed; details {"step_name", "reason"}): stop working on the
 * step. NOT_FOUND.
 */
TASKER_API tasker_error_t *tasker_step_heartbeat(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                                 tasker_bytes_t *out_json);

/**
 * Records a step's result; the step becomes complete and its dependents may become ready.
 *
 * request_json: {"task_uuid", "step_uuid", "claim_token", "result": <any JSON, default null>,
 *                "metadata": {...} (optional, kept with the step),
 *                "traceparent": "..." (optional, the parent of the step's span),
 *                "handler": {"started_at": "<RFC 3339>" or Unix seconds, "finished_at": the same,   (optional)
 *                            "attributes": {"name": string | number | boolean, ...} (at most 64)},
 *                "claim_next": {"max_steps": 1, "handlers": [...], "lease_seconds", "worker_id", "lean"}   (optional)}
 * out_json: {"claims": [...], "outcome": {...}}, the shape of tasker_steps_claim. With "claim_next", the task's next
 *   ready steps are claimed in the same call (one crossing and one store write per step instead of two);
 *   without it, "claims" is empty.
 *
 * "handler" is what the caller measured around its handler: it becomes a "tasker.handler <handler>" span inside
 * the step's span, carrying the attributes. INVALID_ARGUMENT when it is malformed (the step stays claimed).
 *
 * A result the library refuses (INVALID_JSON: the request nests deeper than 64 levels, i.e. a result deeper than
 * 63; INVALID_UTF8; INVALID_ARGUMENT: larger than TASKER_MAX_INPUT_BYTES or holding U+0000) leaves the step
 * claimed: report it with tasker_step_fail, error_type "InvalidResult" and this error's message, as every binding
 * does.
 *
 * Errors: STALE_CLAIM for a token that is not current (a duplicate or late completion, or a report after the
 * claim's deadline_at or the task's timeout): nothing changes. NOT_FOUND for an unknown task or step.
 */
TASKER_API tasker_error_t *tasker_step_complete(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                                tasker_bytes_t *out_json);

/**
 * Records a failed attempt. Retryable with attempts left -> waiting_for_retry: after retry_after_seconds when
 * given, else after the exponential backoff (both capped by the maximum backoff). Otherwise -> error, which fails
 * the task once nothing else can progress (or at once, for a fail_fast template).
 *
 * request_json: {"task_uuid", "step_uuid", "claim_token",
 *                "error": {"message": "...", "error_type": "IOError", "permanent": false,
 *                          "retry_after_seconds": 2, "backtrace": ["frame", ...] or "one\nstring"},
 *                "traceparent": "...", "handler": {...}, "claim_next": {...} (optional, as for tasker_step_complete)}
 * out_json: {"claims": [...], "outcome": {...}}, as for tasker_step_complete.
 *
 * Send the whole message and backtrace: the library keeps, for every host alike, the first 8,192 characters of the
 * message and at most 200 frames (the 100 outermost and the 100 innermost) of at most 1,024 characters each, with
 * any U+0000 replaced by U+FFFD (a failure report is never refused for its text).
 *
 * Errors: STALE_CLAIM (nothing changes); NOT_FOUND; INVALID_ARGUMENT when "error" is missing or not an object.
 */
TASKER_API tasker_error_t *tasker_step_fail(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                            tasker_bytes_t *out_json);

/**
 * Reports several finished steps of one task in one call: the reports are applied in order, each as
 * tasker_step_complete (with "result") or tasker_step_fail (with "error") would apply it, all in one change of the
 * task (one commit on PostgreSQL), and then the task's next steps are claimed. A step loop that has several reports
 * at once (a wave of quick handlers, or several pool threads done together) crosses once for them all and reads one
 * outcome.
 *
 * request_json: {"task_uuid",
 *                "reports": [{"step_uuid", "claim_token", "result": <any JSON> | "error": {...},
 *                             "metadata", "handler"}, ...],        1 to 1,000; the fields as for complete and fail
 *                "claim_next": {...} (optional, as for tasker_step_complete), "traceparent"}
 * out_json: {"reports": [null | {"code": <tasker_error_code>, "message": "..."}, ...],   one per report, in order
 *            "claims": [...], "outcome": {...}}
 *
 * Reports are independent: one the library refuses (STALE_CLAIM, or a result it refuses: see tasker_step_complete)
 * gets its error in "reports" and changes nothing, and the others are applied. Report a refused result again as a
 * failure with error_type "InvalidResult", as for a single complete. The claims and outcome are the task's after
 * every report (a lean claim_next: the outcome is null when steps are claimed).
 *
 * Errors: INVALID_ARGUMENT for a malformed request or report (a missing step_uuid, an "error" that is not an
 * object, no reports or more than 1,000); INVALID_JSON when the request does not parse (a result nesting deeper
 * than 63 levels refuses the whole request here: send the reports one at a time then); NOT_FOUND for an unknown
 * task; these apply nothing. DATABASE or TIMEOUT (PostgreSQL): the batch is applied whole or not at all; when
 * the reply to its commit was lost it may have been applied. Sending them all again after an error is safe: a
 * report already applied answers STALE_CLAIM.
 */
TASKER_API tasker_error_t *tasker_steps_report(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                               tasker_bytes_t *out_json);

/**
 * Resolves a step by hand (an operator did its work): the step becomes resolved_manually, which satisfies its
 * dependents, and a task in error resumes.
 *
 * request_json: {"task_uuid", "step_uuid" or "step_name", "result": <what dependents will see>, "actor", "reason"}
 * out_outcome_json: an outcome (see tasker_task_evaluate).
 *
 * Errors: NOT_FOUND; INVALID_STATE when the step is complete or the task is finished.
 */
TASKER_API tasker_error_t *tasker_step_resolve(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                               tasker_bytes_t *out_outcome_json);

/* ----------------------------------------------------------------------------------------------------------
 * Events
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * Subscribes to the engine's events whose name matches `pattern`. Events published after this call are buffered
 * until pulled; when the buffer is full, new events are dropped and counted. The catalog is docs/events.md.
 *
 * pattern, len: an exact name ("step.completed"), a prefix ("step.*", "task.*", "workflow.*") or "*" (1-256 characters).
 * capacity: the buffer size in events, at most 10,000,000; 0 means the engine's "event_buffer".
 * out_subscription: on success, the new subscription; on failure, NULL.
 */
TASKER_API tasker_error_t *tasker_subscription_open(tasker_engine_t *engine, const uint8_t *pattern, size_t len,
                                                    uint32_t capacity, tasker_subscription_t **out_subscription);

/**
 * Removes and returns up to max_events buffered events (at most 100,000 per call), oldest first. Never blocks;
 * an empty batch means nothing happened since the last pull.
 *
 * out_batch_json: {"events": [{"sequence", "name", "timestamp", "task_uuid", "task_name", "namespace",
 *                              "step_uuid", "step_name", "from_state", "to_state", "attempt", "duration_ms",
 *                              "reason", "actor", "error": {...}, "data": {...}}],
 *                  "dropped": <events dropped since the subscription opened>}
 * Fields that do not apply to an event are null or absent.
 */
TASKER_API tasker_error_t *tasker_subscription_pull(tasker_subscription_t *subscription, uint32_t max_events,
                                                    tasker_bytes_t *out_batch_json);

/**
 * Ends a subscription and drops its buffered events. Accepts NULL; a subscription already freed is ignored.
 */
TASKER_API void tasker_subscription_free(tasker_subscription_t *subscription);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TASKER_H */
