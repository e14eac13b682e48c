using System.Text.Json;

namespace Tasker.Native.Wire;

/// <summary>
/// The property names of the wire format, escaped and encoded to UTF-8 once: writing them is a copy, with no
/// transcoding and no escape check per call (those showed up as the largest share of a step's ABI time).
/// </summary>
internal static class Names
{
    public static readonly JsonEncodedText DeadlineAt = JsonEncodedText.Encode("deadline_at");
    public static readonly JsonEncodedText StepsLeft = JsonEncodedText.Encode("steps_left");
    public static readonly JsonEncodedText ReadyStepsByHandler = JsonEncodedText.Encode("ready_steps_by_handler");
    public static readonly JsonEncodedText Reports = JsonEncodedText.Encode("reports");
    public static readonly JsonEncodedText RequeueAfterSeconds = JsonEncodedText.Encode("requeue_after_seconds");
    public static readonly JsonEncodedText TimeoutSeconds = JsonEncodedText.Encode("timeout_seconds");
    public static readonly JsonEncodedText WaitingForHandlers = JsonEncodedText.Encode("waiting_for_handlers");
    public static readonly JsonEncodedText Action = JsonEncodedText.Encode("action");
    public static readonly JsonEncodedText Actor = JsonEncodedText.Encode("actor");
    public static readonly JsonEncodedText At = JsonEncodedText.Encode("at");
    public static readonly JsonEncodedText Attempt = JsonEncodedText.Encode("attempt");
    public static readonly JsonEncodedText Attempts = JsonEncodedText.Encode("attempts");
    public static readonly JsonEncodedText AttemptsExhausted = JsonEncodedText.Encode("attempts_exhausted");
    public static readonly JsonEncodedText Backtrace = JsonEncodedText.Encode("backtrace");
    public static readonly JsonEncodedText ClaimToken = JsonEncodedText.Encode("claim_token");
    public static readonly JsonEncodedText Claims = JsonEncodedText.Encode("claims");
    public static readonly JsonEncodedText Code = JsonEncodedText.Encode("code");
    public static readonly JsonEncodedText Context = JsonEncodedText.Encode("context");
    public static readonly JsonEncodedText CorrelationId = JsonEncodedText.Encode("correlation_id");
    public static readonly JsonEncodedText Created = JsonEncodedText.Encode("created");
    public static readonly JsonEncodedText CreatedAt = JsonEncodedText.Encode("created_at");
    public static readonly JsonEncodedText Data = JsonEncodedText.Encode("data");
    public static readonly JsonEncodedText DelaySeconds = JsonEncodedText.Encode("delay_seconds");
    public static readonly JsonEncodedText Dependencies = JsonEncodedText.Encode("dependencies");
    public static readonly JsonEncodedText DependencyResults = JsonEncodedText.Encode("dependency_results");
    public static readonly JsonEncodedText Dropped = JsonEncodedText.Encode("dropped");
    public static readonly JsonEncodedText DurationMs = JsonEncodedText.Encode("duration_ms");
    public static readonly JsonEncodedText Error = JsonEncodedText.Encode("error");
    public static readonly JsonEncodedText ErrorType = JsonEncodedText.Encode("error_type");
    public static readonly JsonEncodedText Events = JsonEncodedText.Encode("events");
    public static readonly JsonEncodedText ExecutionStatus = JsonEncodedText.Encode("execution_status");
    public static readonly JsonEncodedText ExpiredLeases = JsonEncodedText.Encode("expired_leases");
    public static readonly JsonEncodedText Finalized = JsonEncodedText.Encode("finalized");
    public static readonly JsonEncodedText FinishedAt = JsonEncodedText.Encode("finished_at");
    public static readonly JsonEncodedText From = JsonEncodedText.Encode("from");
    public static readonly JsonEncodedText FromState = JsonEncodedText.Encode("from_state");
    public static readonly JsonEncodedText Handler = JsonEncodedText.Encode("handler");
    public static readonly JsonEncodedText Healthy = JsonEncodedText.Encode("healthy");
    public static readonly JsonEncodedText IdempotencyKey = JsonEncodedText.Encode("idempotency_key");
    public static readonly JsonEncodedText InProgressSteps = JsonEncodedText.Encode("in_progress_steps");
    public static readonly JsonEncodedText Initialization = JsonEncodedText.Encode("initialization");
    public static readonly JsonEncodedText Initiator = JsonEncodedText.Encode("initiator");
    public static readonly JsonEncodedText LeaseExpiresAt = JsonEncodedText.Encode("lease_expires_at");
    public static readonly JsonEncodedText MaxAttempts = JsonEncodedText.Encode("max_attempts");
    public static readonly JsonEncodedText Message = JsonEncodedText.Encode("message");
    public static readonly JsonEncodedText Metadata = JsonEncodedText.Encode("metadata");
    public static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");
    public static readonly JsonEncodedText Namespace = JsonEncodedText.Encode("namespace");
    public static readonly JsonEncodedText NextRetryAt = JsonEncodedText.Encode("next_retry_at");
    public static readonly JsonEncodedText OldestUnfinishedTaskCreatedAt = JsonEncodedText.Encode("oldest_unfinished_task_created_at");
    public static readonly JsonEncodedText Outcome = JsonEncodedText.Encode("outcome");
    public static readonly JsonEncodedText Permanent = JsonEncodedText.Encode("permanent");
    public static readonly JsonEncodedText PoolInUse = JsonEncodedText.Encode("pool_in_use");
    public static readonly JsonEncodedText PoolSize = JsonEncodedText.Encode("pool_size");
    public static readonly JsonEncodedText Priority = JsonEncodedText.Encode("priority");
    public static readonly JsonEncodedText Readiness = JsonEncodedText.Encode("readiness");
    public static readonly JsonEncodedText Ready = JsonEncodedText.Encode("ready");
    public static readonly JsonEncodedText ReadySteps = JsonEncodedText.Encode("ready_steps");
    public static readonly JsonEncodedText Reason = JsonEncodedText.Encode("reason");
    public static readonly JsonEncodedText Result = JsonEncodedText.Encode("result");
    public static readonly JsonEncodedText RetriesDue = JsonEncodedText.Encode("retries_due");
    public static readonly JsonEncodedText RetryAt = JsonEncodedText.Encode("retry_at");
    public static readonly JsonEncodedText RetryDue = JsonEncodedText.Encode("retry_due");
    public static readonly JsonEncodedText Retryable = JsonEncodedText.Encode("retryable");
    public static readonly JsonEncodedText Sequence = JsonEncodedText.Encode("sequence");
    public static readonly JsonEncodedText SourceSystem = JsonEncodedText.Encode("source_system");
    public static readonly JsonEncodedText State = JsonEncodedText.Encode("state");
    public static readonly JsonEncodedText Step = JsonEncodedText.Encode("step");
    public static readonly JsonEncodedText StepName = JsonEncodedText.Encode("step_name");
    public static readonly JsonEncodedText StepUuid = JsonEncodedText.Encode("step_uuid");
    public static readonly JsonEncodedText Steps = JsonEncodedText.Encode("steps");
    public static readonly JsonEncodedText Store = JsonEncodedText.Encode("store");
    public static readonly JsonEncodedText Tags = JsonEncodedText.Encode("tags");
    public static readonly JsonEncodedText Task = JsonEncodedText.Encode("task");
    public static readonly JsonEncodedText TaskName = JsonEncodedText.Encode("task_name");
    public static readonly JsonEncodedText TaskState = JsonEncodedText.Encode("task_state");
    public static readonly JsonEncodedText TaskUuid = JsonEncodedText.Encode("task_uuid");
    public static readonly JsonEncodedText TaskUuids = JsonEncodedText.Encode("task_uuids");
    public static readonly JsonEncodedText UnclaimedSteps = JsonEncodedText.Encode("unclaimed_steps");
    public static readonly JsonEncodedText UndrivenTasks = JsonEncodedText.Encode("undriven_tasks");
    public static readonly JsonEncodedText ReadySince = JsonEncodedText.Encode("ready_since");
    public static readonly JsonEncodedText PendingSince = JsonEncodedText.Encode("pending_since");
    public static readonly JsonEncodedText Tasks = JsonEncodedText.Encode("tasks");
    public static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode("timestamp");
    public static readonly JsonEncodedText To = JsonEncodedText.Encode("to");
    public static readonly JsonEncodedText ToState = JsonEncodedText.Encode("to_state");
    public static readonly JsonEncodedText Transitions = JsonEncodedText.Encode("transitions");
    public static readonly JsonEncodedText UpdatedAt = JsonEncodedText.Encode("updated_at");
    public static readonly JsonEncodedText Version = JsonEncodedText.Encode("version");
    public static readonly JsonEncodedText WaitingOn = JsonEncodedText.Encode("waiting_on");

    // health's "memory" object (the library's managed heap).
    public static readonly JsonEncodedText Memory = JsonEncodedText.Encode("memory");
    public static readonly JsonEncodedText HeapSizeBytes = JsonEncodedText.Encode("heap_size_bytes");
    public static readonly JsonEncodedText CommittedBytes = JsonEncodedText.Encode("committed_bytes");
    public static readonly JsonEncodedText FragmentedBytes = JsonEncodedText.Encode("fragmented_bytes");
    public static readonly JsonEncodedText TotalAllocatedBytes = JsonEncodedText.Encode("total_allocated_bytes");
    public static readonly JsonEncodedText GcCounts = JsonEncodedText.Encode("gc_counts");
    public static readonly JsonEncodedText Gen0 = JsonEncodedText.Encode("gen0");
    public static readonly JsonEncodedText Gen1 = JsonEncodedText.Encode("gen1");
    public static readonly JsonEncodedText Gen2 = JsonEncodedText.Encode("gen2");
    public static readonly JsonEncodedText GcPauseTimePercent = JsonEncodedText.Encode("gc_pause_time_percent");

    // Template details (Rails Tasker's descriptive keys) and Rails Tasker request fields.
    public static readonly JsonEncodedText Description = JsonEncodedText.Encode("description");
    public static readonly JsonEncodedText ModuleNamespace = JsonEncodedText.Encode("module_namespace");
    public static readonly JsonEncodedText TaskHandlerClass = JsonEncodedText.Encode("task_handler_class");
    public static readonly JsonEncodedText Concurrent = JsonEncodedText.Encode("concurrent");
    public static readonly JsonEncodedText DefaultDependentSystem = JsonEncodedText.Encode("default_dependent_system");
    public static readonly JsonEncodedText DependentSystem = JsonEncodedText.Encode("dependent_system");
    public static readonly JsonEncodedText NamedSteps = JsonEncodedText.Encode("named_steps");
    public static readonly JsonEncodedText Environment = JsonEncodedText.Encode("environment");
    public static readonly JsonEncodedText HasInputSchema = JsonEncodedText.Encode("has_input_schema");
    public static readonly JsonEncodedText StepDetails = JsonEncodedText.Encode("step_details");
    public static readonly JsonEncodedText Skippable = JsonEncodedText.Encode("skippable");
    public static readonly JsonEncodedText RequestedAt = JsonEncodedText.Encode("requested_at");
}
