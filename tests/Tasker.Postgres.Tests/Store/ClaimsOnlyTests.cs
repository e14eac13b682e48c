using Tasker.Core;
using Tasker.Postgres.Tasks;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// Which changes count as claims only (<see cref="TransitionRows.ClaimsOnly"/>), the writes that may commit without
/// waiting for the WAL flush: every transition starts an attempt, and nothing else happens.
/// </summary>
public sealed class ClaimsOnlyTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static TransitionRecord Step(string? from, string to, string reason = "claimed") =>
        new(Guid.NewGuid(), "s", from, to, reason, "w", At, 1);

    private static TransitionRecord Task(string? from, string to) => new(null, null, from, to, "started", "w", At, null);

    private static bool ClaimsOnly(params TransitionRecord[] transitions) => new TransitionRows(transitions, 1).ClaimsOnly;

    [Fact]
    public void Starting_steps_and_the_task_is_a_claim() =>
        Assert.True(ClaimsOnly(Task("pending", "in_progress"), Step("pending", "in_progress"), Step("waiting_for_retry", "in_progress")));

    [Fact]
    public void A_step_started_on_a_task_already_running_is_a_claim() => Assert.True(ClaimsOnly(Step("pending", "in_progress")));

    [Fact]
    public void No_transition_is_not_a_claim() => Assert.False(ClaimsOnly());

    [Fact]
    public void A_task_started_alone_is_not_a_claim() => Assert.False(ClaimsOnly(Task("pending", "in_progress")));

    [Fact]
    public void A_completion_with_the_next_claim_is_not_a_claim_only() =>
        Assert.False(ClaimsOnly(Step("in_progress", "complete", "completed"), Step("pending", "in_progress")));

    [Fact]
    public void An_expired_lease_taken_over_is_not_a_claim_only() =>
        Assert.False(ClaimsOnly(Step("in_progress", "waiting_for_retry", "lease expired"), Step("waiting_for_retry", "in_progress")));

    [Fact]
    public void A_finalization_is_not_a_claim() =>
        Assert.False(ClaimsOnly(Step("pending", "in_progress"), Task("in_progress", "complete")));

    [Fact]
    public void A_task_resumed_from_another_state_is_not_a_claim_only() =>
        Assert.False(ClaimsOnly(Task("error", "in_progress"), Step("pending", "in_progress")));
}
