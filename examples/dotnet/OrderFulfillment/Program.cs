// The order-fulfillment workflow on the embedded memory store, driven the way any host drives Tasker:
// claim ready steps, run the handler for each, report the result, and follow the outcome's advice.
using System.Text.Json;
using Tasker.Core;

var templatePath = Path.Combine(AppContext.BaseDirectory, "order_fulfillment.yaml");
await using var engine = TaskerEngine.InMemory();
var template = await engine.RegisterTemplateAsync(await File.ReadAllTextAsync(templatePath));
Console.WriteLine($"registered {template.Key} ({template.Steps.Count} steps)");

var context = JsonValues.Parse("""{"order": {"id": 1001, "total": 59.90, "items": [{"sku": "TSK-1", "quantity": 2}]}}""", "context");
var created = await engine.CreateTaskAsync(new TaskRequest
{
    Namespace = "fulfillment", Name = "order_fulfillment", Context = context,
    Initiator = "demo", SourceSystem = "examples/dotnet", Reason = "demo order",
});
var taskUuid = created.Task.TaskUuid;
Console.WriteLine($"created task {taskUuid}");

// Handlers are plain functions keyed by the template's callable names.
var handlers = new Dictionary<string, Func<StepClaim, string>>
{
    ["ValidateOrder"] = step => $"{{\"valid\": true, \"total\": {step.Context.GetProperty("order").GetProperty("total").GetRawText()}}}",
    ["ReserveInventory"] = step => "{\"reservation\": \"RSV-1001\"}",
    ["ProcessPayment"] = step => step.Attempt == 1
        ? throw new TimeoutException("payment gateway timed out")
        : "{\"payment_id\": \"PAY-1001\", \"charged\": 59.90}",
    ["ShipOrder"] = step => "{\"tracking\": \"TRK-1001\"}",
};

var outcome = await engine.EvaluateAsync(taskUuid);
while (outcome.Action is RecommendedAction.Execute or RecommendedAction.Reenqueue)
{
    if (outcome.Action == RecommendedAction.Reenqueue)
    {
        // A real host re-enqueues the task with this delay (Sidekiq perform_in, Celery countdown, BullMQ delay).
        Console.WriteLine($"  waiting {outcome.DelaySeconds:0.00}s before retrying");
        await Task.Delay(TimeSpan.FromSeconds(outcome.DelaySeconds ?? 0));
        outcome = await engine.EvaluateAsync(taskUuid);
        continue;
    }

    var claim = await engine.ClaimStepsAsync(taskUuid);
    outcome = claim.Outcome;
    foreach (var step in claim.Claims)
    {
        try
        {
            var result = handlers[step.Handler](step);
            outcome = await engine.CompleteStepAsync(taskUuid, step.StepUuid, step.ClaimToken, JsonValues.Parse(result, "result"));
            Console.WriteLine($"  step {step.StepName,-18} attempt {step.Attempt}: complete {result}");
        }
        catch (Exception e) when (e is not TaskerException)
        {
            outcome = await engine.FailStepAsync(taskUuid, step.StepUuid, step.ClaimToken, new StepFailure(e.Message, e.GetType().Name));
            Console.WriteLine($"  step {step.StepName,-18} attempt {step.Attempt}: failed ({e.Message}), will retry");
        }
    }
}

var task = await engine.GetTaskAsync(taskUuid);
Console.WriteLine($"task {task.State.ToWire()}: " + string.Join(", ", task.Steps.Select(s => $"{s.Name}={s.State.ToWire()}/{s.Attempts}")));
Console.WriteLine($"shipment: {task.Step("ship_order").Result!.Value.GetProperty("tracking").GetString()}");
return task.State == TaskState.Complete ? 0 : 1;
