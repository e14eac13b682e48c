using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Tasker.Core;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// A content hash of a task's step definitions and edges (<c>tasker_tasks.definition_key</c>). Tasks of the same
/// template version share it, which is what lets processes cache the shape; a template re-registered with other
/// content gets another key, so a cached shape can never be applied to the wrong task.
/// </summary>
internal static class DefinitionKey
{
    public static string Compute(WorkflowTask task)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var number = new byte[8];
        void Int(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(number, value);
            hash.AppendData(number);
        }
        void Text(string? value)
        {
            if (value is null)
            {
                Int(-1);
                return;
            }
            var bytes = Encoding.UTF8.GetBytes(value);
            Int(bytes.Length);
            hash.AppendData(bytes);
        }
        void Real(double? value) => Int(value is { } v ? BitConverter.DoubleToInt64Bits(v) : long.MinValue);

        Int(task.Steps.Count);
        foreach (var step in task.Steps)
        {
            Text(step.Name);
            Text(step.Handler);
            Text(step.Initialization?.GetRawText());
            Int(step.Retryable ? 1 : 0);
            Int(step.MaxAttempts);
            Real(step.BackoffBaseSeconds);
            Real(step.MaxBackoffSeconds);
            Int(step.TimeoutSeconds ?? -1);
            var parents = task.Graph.ParentsOf(step.Index);
            Int(parents.Length);
            foreach (var parent in parents)
                Int(parent);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
