/*
 * tasker.h — the C API of Tasker Native (libtasker).
 *
 * Tasker Native is an embeddable DAG workflow engine. This header is the whole public surface of the shared
 * library `libtasker.so` (`libtasker.dylib`, `tasker.dll`); the Python, Ruby and Node bindings are thin wrappers
 * over exactly these functions.
 *
 * ===========================================================================================================
 * OVERVIEW
 * ===========================================================================================================
 *
 * An engine holds task templates (DAGs of steps) and tasks created from them. The host pulls work:
 *
 *     tasker_engine_open(config)                         -> engine
 *     tasker_template_register(engine, yaml)
 *     tasker_task_create(engine, request)                -> {"created", "task": {"task_uuid", ...}}
 *     loop:
 *         tasker_steps_claim(engine, {"task_uuid"})      -> {"claims": [...], "outcome": {...}}
 *         for each claim: run the handler named by claim.step.handler, then
 *             tasker_step_complete(engine, {task_uuid, step_uuid, claim_token, result})  -> outcome
 *          or tasker_step_fail(engine, {task_uuid, step_uuid, claim_token, error})       -> outcome
 *         follow outcome.action:
 *             "execute"   ready steps exist: claim again
 *             "reenqueue" nothing is ready until a retry time: come back after outcome.delay_seconds
 *             "wait"      steps are in flight elsewhere; whoever finishes them drives the task on
 *             "complete" / "error" / "cancelled"   the task is finished
 *     tasker_engine_free(engine)
 *
 * The engine never calls back into the host: there are no callbacks on the step path.
 *
 * ===========================================================================================================
 * OWNERSHIP
 * ===========================================================================================================
 *
 * - Inputs are borrowed for the duration of the call; the library keeps no pointer to them.
 * - Every object the library creates is owned by the caller and released by exactly one function:
 *       tasker_engine_t       -> tasker_engine_free
 *       tasker_subscription_t -> tasker_subscription_free
 *       tasker_error_t        -> tasker_error_free
 *       tasker_bytes_t        -> tasker_bytes_free
 * - Every *_free function accepts NULL. Handles are not pointers but generation-checked table entries: using or
 *   freeing a handle twice returns TASKER_ERROR_INVALID_HANDLE instead of corrupting memory.
 * - On failure, out-parameters are set to empty (NULL handle, {NULL, 0} bytes), so freeing them is always safe.
 *
 * ===========================================================================================================
 * ERRORS
 * ===========================================================================================================
 *
 * Every fallible function returns `tasker_error_t *`: NULL on success, otherwise an error object the caller owns.
 * Read it with tasker_error_code / tasker_error_message / tasker_error_details and free it with
 * tasker_error_free. There is no thread-local "last error". No exception or signal ever crosses this boundary:
 * an unexpected failure inside the library is reported as TASKER_ERROR_INTERNAL.
 *
 * ===========================================================================================================
 * STRINGS AND JSON
 * ===========================================================================================================
 *
 * - Text and JSON cross as UTF-8 `(const uint8_t *data, size_t len)`. The length is authoritative: the library
 *   never scans for a NUL terminator, and embedded NULs are data. `data` may be NULL only when `len` is 0.
 * - Invalid UTF-8 is TASKER_ERROR_INVALID_UTF8; malformed JSON is TASKER_ERROR_INVALID_JSON; an input larger
 *   than TASKER_MAX_INPUT_BYTES (64 MiB) is TASKER_ERROR_INVALID_ARGUMENT. JSON nesting is limited to 64 levels.
 * - JSON field names are snake_case. Readers ignore fields they do not know, so newer libraries can add fields.
 *   Times are RFC 3339 strings in UTC. Uuids are strings.
 * - Outputs are `tasker_bytes_t`: `len` bytes of UTF-8 JSON, followed by a NUL that is not counted in `len`
 *   (so C code may treat `data` as a C string).
 * - The JSON shapes of every request and response are documented in docs/c-abi.md.
 *
 * ===========================================================================================================
 * THREAD SAFETY
 * ===========================================================================================================
 *
 * All functions may be called from any thread, concurrently, with the same engine handle: the engine serializes
 * changes per task (a lock per task in memory; a row lock with PostgreSQL). A subscription may be pulled from any
 * thread. An error object or a bytes buffer must not be freed while another thread reads it.
 *
 * Calls that use PostgreSQL block the calling thread for the database round trips (bindings run them off their
 * event loop or with the interpreter lock released).
 *
 * ===========================================================================================================
 * VERSIONING
 * ===========================================================================================================
 *
 * TASKER_ABI_VERSION changes whenever a signature, a struct or a JSON shape changes incompatibly. Check at load:
 *     if (tasker_abi_version() != TASKER_ABI_VERSION) { ... refuse to run ... }
 * Error codes are append-only: new codes may appear; existing values never change meaning.
 *
 * ===========================================================================================================
 * PROCESS CONSTRAINTS
 * ===========================================================================================================
 *
 * - The library contains a .NET runtime (NativeAOT). It is linked with -z nodelete: dlclose() does not unload it,
 *   and it must not be unloaded.
 * - Do not use the library in a child process after fork() (the runtime's threads do not survive fork). Open
 *   engines in each worker process after it forks (see the bindings' docs for Sidekiq/Puma/Celery hooks).
 * - The library installs no signal handlers that a host needs to know about and never writes to stdout.
 */
#ifndef TASKER_H
#define TASKER_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(TASKER_BUILDING)
#    define TASKER_API __declspec(dllexport)
#  else
#    define TASKER_API __declspec(dllimport)
#  endif
#else
#  define TASKER_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------------------------
 * Versions
 * ---------------------------------------------------------------------------------------------------------- */

#define TASKER_VERSION_MAJOR 0
#define TASKER_VERSION_MINOR 1
#define TASKER_VERSION_PATCH 0
#define TASKER_VERSION "0.1.0"

/** The ABI this header describes; compare with tasker_abi_version() at load. */
#define TASKER_ABI_VERSION 1

/** The largest text or JSON input the library accepts, in bytes. */
#define TASKER_MAX_INPUT_BYTES (64u * 1024u * 1024u)

/** The library's version string, e.g. "0.1.0". Static storage: never free it. Never fails. */
TASKER_API const char *tasker_version(void);

/** The ABI version the library was built with. Never fails. */
TASKER_API uint32_t tasker_abi_version(void);

/* ----------------------------------------------------------------------------------------------------------
 * Types
 * ---------------------------------------------------------------------------------------------------------- */

/** An engine: templates, tasks and a store (memory or PostgreSQL). Free with tasker_engine_free. */
typedef struct tasker_engine tasker_engine_t;

/** An event subscription. Free with tasker_subscription_free. */
typedef struct tasker_subscription tasker_subscription_t;

/** An error. Free with tasker_error_free. */
typedef struct tasker_error tasker_error_t;

/**
 * Owned output data: `len` bytes of UTF-8 (JSON), NUL-terminated (the NUL is not counted).
 * Initialize to {NULL, 0}; free with tasker_bytes_free.
 */
typedef struct tasker_bytes {
    const uint8_t *data;
    size_t len;
} tasker_bytes_t;

/* ----------------------------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------------------------------- */

/** Error codes. Append-only: values never change meaning. */
typedef enum tasker_error_code {
    TASKER_OK = 0,
    TASKER_ERROR_INVALID_ARGUMENT = 1, /**< a NULL pointer, a missing or ill-typed field, an input too large */
    TASKER_ERROR_INVALID_HANDLE = 2,   /**< a NULL, freed or foreign handle */
    TASKER_ERROR_INVALID_UTF8 = 3,     /**< text that is not UTF-8 */
    TASKER_ERROR_INVALID_JSON = 4,     /**< malformed JSON (the message gives line and byte) */
    TASKER_ERROR_NOT_FOUND = 5,        /**< unknown template, task or step */
    TASKER_ERROR_CONFLICT = 6,         /**< a concurrent change won (retry the call) */
    TASKER_ERROR_INVALID_DAG = 7,      /**< duplicate or unknown step names, a cycle (named), no steps */
    TASKER_ERROR_INVALID_STATE = 8,    /**< an illegal transition; details name both states */
    TASKER_ERROR_STALE_CLAIM = 9,      /**< the claim token is not current: the call changed nothing */
    TASKER_ERROR_DATABASE = 10,        /**< PostgreSQL failed or is unreachable (no secrets in the message) */
    TASKER_ERROR_TIMEOUT = 11,         /**< an operation exceeded its time limit */
    TASKER_ERROR_INTERNAL = 12,        /**< a bug in tasker; the call changed nothing it could not finish */
    TASKER_ERROR_ABI_MISMATCH = 13     /**< reserved for bindings: header and library disagree */
} tasker_error_code_t;

/**
 * The error's code (a tasker_error_code_t value). Returns TASKER_ERROR_INVALID_HANDLE for NULL or a freed error.
 */
TASKER_API int32_t tasker_error_code(const tasker_error_t *error);

/**
 * A human-readable, single-line message (UTF-8, NUL-terminated). Borrowed: valid until tasker_error_free.
 * Returns "" for NULL or a freed error. Messages never contain passwords or full task contexts.
 */
TASKER_API const char *tasker_error_message(const tasker_error_t *error);

/**
 * Machine-readable details: a JSON object of string values (e.g. {"step_name": "...", "from": "complete",
 * "to": "cancelled"} or {"cycle": "a -> b -> a"}). Borrowed: valid until tasker_error_free. "{}" when none.
 */
TASKER_API const char *tasker_error_details(const tasker_error_t *error);

/** Frees an error. Accepts NULL; freeing twice is harmless. */
TASKER_API void tasker_error_free(tasker_error_t *error);

/** Frees an output buffer and resets it to {NULL, 0}. Accepts NULL and an already-freed buffer. */
TASKER_API void tasker_bytes_free(tasker_bytes_t *bytes);

/* ----------------------------------------------------------------------------------------------------------
 * Engines
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * Opens an engine.
 *
 * config_json (may be empty, meaning {}):
 *   {"database_url": "postgres://user:pass@host:5432/db"   PostgreSQL store; absent = embedded memory store
 *    "schema": "tasker",            PostgreSQL schema (default: the connection's search_path)
 *    "pool_size": 20,               PostgreSQL connections this process may open
 *    "migrate": true,               apply pending migrations on open (PostgreSQL)
 *    "max_attempts": 3,             default attempts per step
 *    "backoff": {"base_seconds": 1, "max_seconds": 300, "jitter": 0.1},
 *    "lease_seconds": 300,          how long a claim lasts without a heartbeat
 *    "retention": {"max_finished_tasks": 10000},   memory store: finished tasks kept
 *    "event_buffer": 10000,         default subscription buffer
 *    "clock": "system" | "manual",  "manual": time only moves with tasker_engine_advance_clock (tests)
 *    "random_seed": 42}             seed for backoff jitter
 *
 * On success *out_engine is a new engine. Errors: INVALID_ARGUMENT (NULL out_engine, bad field),
 * INVALID_UTF8, INVALID_JSON, DATABASE (PostgreSQL unreachable or migration failed), TIMEOUT.
 */
TASKER_API tasker_error_t *tasker_engine_open(const uint8_t *config_json, size_t config_len,
                                              tasker_engine_t **out_engine);

/**
 * Closes an engine and releases its store (and its PostgreSQL connections). Accepts NULL.
 * Errors: INVALID_HANDLE when the engine was already freed. Subscriptions of the engine stay valid handles but
 * receive nothing more; free them too.
 */
TASKER_API tasker_error_t *tasker_engine_free(tasker_engine_t *engine);

/** Applies pending PostgreSQL migrations (safe to run from several processes at once). No-op for memory. */
TASKER_API tasker_error_t *tasker_engine_migrate(tasker_engine_t *engine);

/**
 * Moves the engine's clock forward by `milliseconds` (>= 0). Only for engines opened with "clock": "manual";
 * otherwise INVALID_STATE. Lets tests follow retry delays and lease expiry without sleeping.
 */
TASKER_API tasker_error_t *tasker_engine_advance_clock(tasker_engine_t *engine, int64_t milliseconds);

/**
 * Health and statistics, for a /health endpoint. *out_json:
 *   {"healthy": true, "error": null, "store": "memory", "expired_leases": 0, "retries_due": 0,
 *    "tasks": {"pending": 0, "in_progress": 1, ...}, "steps": {...unfinished tasks' steps by state...},
 *    "oldest_unfinished_task_created_at": "...", "pool_in_use": 1, "pool_size": 20}
 * An unreachable database is reported as "healthy": false with "error", not as a returned error.
 */
TASKER_API tasker_error_t *tasker_engine_health(tasker_engine_t *engine, tasker_bytes_t *out_json);

/* ----------------------------------------------------------------------------------------------------------
 * Templates
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * Parses, validates and registers a task template (YAML or JSON; the core format or the Rails Tasker
 * `step_templates` format, see docs/templates.md). Registering another version of a template keeps the others.
 *
 * *out_template_json: {"namespace", "name", "version", "steps": ["step name", ...]}
 * Errors: INVALID_ARGUMENT (malformed YAML with line and column, bad version, missing field), INVALID_JSON,
 * INVALID_DAG (duplicate step names, unknown dependencies, a cycle, no steps; the message names them).
 */
TASKER_API tasker_error_t *tasker_template_register(tasker_engine_t *engine, const uint8_t *text, size_t len,
                                                    tasker_bytes_t *out_template_json);

/* ----------------------------------------------------------------------------------------------------------
 * Tasks
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * Creates a task. request_json:
 *   {"name": "order_fulfillment", "namespace": "fulfillment", "version": "1.0.0" (optional: newest),
 *    "context": {...}, "initiator": "...", "source_system": "...", "reason": "...", "tags": ["..."],
 *    "priority": 0, "idempotency_key": "..." (optional), "correlation_id": "..." (optional)}
 * *out_json: {"created": true, "task": <task view, as tasker_task_get>}. With an idempotency key (or a template
 * with identity_strategy: strict), a repeated request returns the existing task with "created": false.
 * Errors: NOT_FOUND (template or version), INVALID_ARGUMENT (context fails the template's input_schema; the
 * message lists the violations by path).
 */
TASKER_API tasker_error_t *tasker_task_create(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                              tasker_bytes_t *out_json);

/**
 * A task with all its steps and its audit trail. task_uuid is the uuid text. *out_task_json:
 *   {"task_uuid", "namespace", "name", "version", "state", "context", "tags", "priority", "initiator",
 *    "source_system", "reason", "correlation_id", "idempotency_key", "created_at", "updated_at", "finished_at",
 *    "steps": [{"step_uuid", "name", "handler", "state", "attempts", "max_attempts", "retryable", "result",
 *               "metadata", "error", "next_retry_at", "lease_expires_at", "dependencies": [names],
 *               "readiness": {"ready", "waiting_on": [names], "retry_at", "attempts_exhausted"}}],
 *    "transitions": [{"step_name", "from", "to", "reason", "actor", "at", "attempt"}]}
 * Errors: INVALID_ARGUMENT (not a uuid), NOT_FOUND.
 */
TASKER_API tasker_error_t *tasker_task_get(tasker_engine_t *engine, const uint8_t *task_uuid, size_t len,
                                           tasker_bytes_t *out_task_json);

/**
 * Lists tasks, newest first. query_json (may be empty): {"state": "complete", "namespace": "...", "name": "...",
 * "limit": 100}. *out_json: {"tasks": [{"task_uuid", "namespace", "name", "version", "state", "created_at",
 * "updated_at"}]}.
 */
TASKER_API tasker_error_t *tasker_task_list(tasker_engine_t *engine, const uint8_t *query_json, size_t len,
                                            tasker_bytes_t *out_json);

/**
 * Evaluates a task (expiring stale leases) and, when nothing can progress, finalizes it. Idempotent.
 * *out_outcome_json is an outcome:
 *   {"task_uuid", "task_state", "execution_status": "has_ready_steps" | "processing" | "waiting_for_retry" |
 *    "blocked_by_failures" | "all_complete", "action": "execute" | "reenqueue" | "wait" | "complete" | "error" |
 *    "cancelled", "delay_seconds": number | null, "ready_steps", "in_progress_steps",
 *    "finalized": true only in the one call that moved the task to its final state}
 */
TASKER_API tasker_error_t *tasker_task_evaluate(tasker_engine_t *engine, const uint8_t *task_uuid, size_t len,
                                                tasker_bytes_t *out_outcome_json);

/**
 * Retries a task in `error`: failed and cancelled steps return to pending with fresh attempts; completed steps
 * keep their results and do not run again. request_json: {"task_uuid", "actor", "reason"}. → outcome.
 * Errors: INVALID_STATE (the task is not in error, e.g. complete); retrying a pending task is a no-op.
 */
TASKER_API tasker_error_t *tasker_task_retry(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                             tasker_bytes_t *out_outcome_json);

/**
 * Cancels a task and all its unfinished steps (in-flight claims become stale). request_json: {"task_uuid",
 * "actor", "reason"}. → outcome. Cancelling twice is a no-op; cancelling a finished task is INVALID_STATE.
 */
TASKER_API tasker_error_t *tasker_task_cancel(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                              tasker_bytes_t *out_outcome_json);

/**
 * Work nobody is driving, for the host to re-enqueue: request_json {"limit": 100} (may be empty).
 * *out_json: {"expired_leases": [{"task_uuid", "step_uuid", "step_name", "lease_expires_at"}],
 *             "retry_due": [{"task_uuid", "next_retry_at"}], "task_uuids": [...]}
 */
TASKER_API tasker_error_t *tasker_stale_work_list(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                                  tasker_bytes_t *out_json);

/* ----------------------------------------------------------------------------------------------------------
 * Steps
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * Atomically claims up to max_steps ready steps of a task. The attempt is counted now; each claim carries a token
 * and a lease. request_json: {"task_uuid", "max_steps": 16, "lease_seconds": 300, "worker_id": "host-1"}.
 * *out_json: {"claims": [{"task": {"task_uuid", "namespace", "name", "version", "context", "tags"},
 *                         "step": {"step_uuid", "name", "handler", "attempt", "max_attempts", "initialization"},
 *                         "dependency_results": {"<parent step name>": <its result>, ...},
 *                         "claim_token": "...", "lease_expires_at": "..."}],
 *             "outcome": <outcome>}
 * No ready steps is not an error: "claims" is empty and the outcome says why.
 */
TASKER_API tasker_error_t *tasker_steps_claim(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                              tasker_bytes_t *out_json);

/**
 * Extends a claim's lease. request_json: {"task_uuid", "step_uuid", "claim_token", "lease_seconds"}.
 * *out_json: {"lease_expires_at": "..."}. Errors: STALE_CLAIM (the lease expired and the step was claimed again,
 * or the step is no longer in progress), NOT_FOUND.
 */
TASKER_API tasker_error_t *tasker_step_heartbeat(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                                 tasker_bytes_t *out_json);

/**
 * Records a step's result. request_json: {"task_uuid", "step_uuid", "claim_token", "result": <any JSON>,
 * "metadata": {...}}. → outcome. Errors: STALE_CLAIM for a token that is not current (a duplicate or late
 * completion): nothing changes. NOT_FOUND for an unknown task or step.
 */
TASKER_API tasker_error_t *tasker_step_complete(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                                tasker_bytes_t *out_outcome_json);

/**
 * Records a failed attempt. request_json: {"task_uuid", "step_uuid", "claim_token",
 *   "error": {"message", "error_type", "permanent": false, "retry_after_seconds": 2, "backtrace": ["..."]}}.
 * Retryable with attempts left → waiting_for_retry (retry_after wins over exponential backoff, both capped);
 * otherwise → error. → outcome. Errors: STALE_CLAIM, NOT_FOUND, INVALID_ARGUMENT (no "error" object).
 */
TASKER_API tasker_error_t *tasker_step_fail(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                            tasker_bytes_t *out_outcome_json);

/**
 * Resolves a step by hand (an operator did its work): request_json {"task_uuid", "step_uuid" or "step_name",
 * "result": <what dependents will see>, "actor", "reason"}. A failed task resumes. → outcome.
 * Errors: NOT_FOUND, INVALID_STATE (the step is complete, or the task is finished).
 */
TASKER_API tasker_error_t *tasker_step_resolve(tasker_engine_t *engine, const uint8_t *request_json, size_t len,
                                               tasker_bytes_t *out_outcome_json);

/* ----------------------------------------------------------------------------------------------------------
 * Events
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * Subscribes to events whose name matches `pattern`: an exact name ("step.completed"), a prefix ("step.*",
 * "task.*", "workflow.*") or "*". `capacity` bounds the buffer (0 = the engine's event_buffer); when it is full,
 * new events are dropped and counted. The catalog is docs/events.md.
 */
TASKER_API tasker_error_t *tasker_subscription_open(tasker_engine_t *engine, const uint8_t *pattern, size_t len,
                                                    uint32_t capacity, tasker_subscription_t **out_subscription);

/**
 * Removes and returns up to max_events buffered events, oldest first. Never blocks.
 * *out_batch_json: {"events": [{"sequence", "name", "timestamp", "task_uuid", "task_name", "namespace",
 *   "step_uuid", "step_name", "from_state", "to_state", "attempt", "duration_ms", "reason", "actor", "error",
 *   "data"}], "dropped": <events dropped since the subscription opened>}
 */
TASKER_API tasker_error_t *tasker_subscription_pull(tasker_subscription_t *subscription, uint32_t max_events,
                                                    tasker_bytes_t *out_batch_json);

/** Ends a subscription. Accepts NULL; INVALID_HANDLE when already freed. */
TASKER_API tasker_error_t *tasker_subscription_free(tasker_subscription_t *subscription);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TASKER_H */
