using Xunit;

namespace Tasker.Core.Tests.Engine;

public sealed class TransitionTableTests
{
    [Theory]
    [InlineData(StepState.Pending, StepState.InProgress)]
    [InlineData(StepState.InProgress, StepState.Complete)]
    [InlineData(StepState.InProgress, StepState.WaitingForRetry)]
    [InlineData(StepState.InProgress, StepState.Error)]
    [InlineData(StepState.WaitingForRetry, StepState.InProgress)]
    [InlineData(StepState.Error, StepState.Pending)]
    [InlineData(StepState.Error, StepState.ResolvedManually)]
    public void Allowed_step_transitions_apply(StepState from, StepState to) =>
        Assert.True(Transitions.Check(from, to, "s"));

    [Theory]
    [InlineData(StepState.Complete, StepState.Pending)]
    [InlineData(StepState.Complete, StepState.Error)]
    [InlineData(StepState.Pending, StepState.Complete)]
    [InlineData(StepState.ResolvedManually, StepState.InProgress)]
    public void Illegal_step_transitions_name_the_step_and_both_states(StepState from, StepState to)
    {
        var e = Assert.Throws<TaskerException>(() => Transitions.Check(from, to, "ship"));
        Assert.Equal(TaskerErrorCode.InvalidState, e.Code);
        Assert.Equal(("ship", from.ToWire(), to.ToWire()), (e.Details["step_name"], e.Details["from"], e.Details["to"]));
    }

    [Fact]
    public void Reapplying_a_transition_is_a_no_op_for_every_state()
    {
        foreach (var s in Enum.GetValues<StepState>())
            Assert.False(Transitions.Check(s, s, "s"));
        foreach (var t in Enum.GetValues<TaskState>())
            Assert.False(Transitions.Check(t, t));
    }

    [Fact]
    public void Finished_tasks_only_leave_error_through_a_retry()
    {
        foreach (var to in Enum.GetValues<TaskState>())
        {
            Assert.False(Transitions.IsAllowed(TaskState.Complete, to));
            Assert.False(Transitions.IsAllowed(TaskState.Cancelled, to));
            Assert.Equal(to == TaskState.Pending, Transitions.IsAllowed(TaskState.Error, to));
        }
    }

    [Fact]
    public void State_names_round_trip()
    {
        foreach (var s in Enum.GetValues<StepState>())
            Assert.Equal(s, StateNames.ParseStepState(s.ToWire()));
        Assert.Equal(TaskerErrorCode.InvalidArgument, Assert.Throws<TaskerException>(() => StateNames.ParseTaskState("done")).Code);
    }
}
