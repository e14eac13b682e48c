using System.Buffers;
using System.Text;
using System.Text.Json;
using Tasker.Core.Templates;

namespace Tasker.Postgres.Templates;

/// <summary>
/// Writes a parsed template back out in the core JSON format, the text stored in <c>tasker_named_tasks.source_json</c>.
/// Whatever format the template was registered in (YAML, Rails), <see cref="TemplateParser.Parse(string, TemplateParseOptions)"/> reads this text
/// back to an equal template, so every process gets the same steps, retry settings and DAG.
/// </summary>
internal static class TemplateJson
{
    public static string Write(TaskTemplate template)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("name", template.Name);
            w.WriteString("namespace_name", template.Namespace);
            w.WriteString("version", template.Version.ToString());
            if (template.Description is not null) w.WriteString("description", template.Description);
            if (template.InputSchema is { } schema)
            {
                w.WritePropertyName(template.InputSchemaKey); // the key decides the schema's default draft
                schema.WriteTo(w);
            }
            w.WriteBoolean("fail_fast", template.FailFast);
            if (template.TimeoutSeconds is { } timeout) w.WriteNumber("timeout_seconds", timeout);
            WriteDetails(w, template.Details);
            w.WriteString("identity_strategy", template.IdentityStrategy == IdentityStrategy.Strict ? "strict" : "default");
            w.WriteStartArray("steps");
            foreach (var step in template.Steps)
                WriteStep(w, step);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteStep(Utf8JsonWriter w, StepTemplate step)
    {
        w.WriteStartObject();
        w.WriteString("name", step.Name);
        if (step.Description is not null) w.WriteString("description", step.Description);
        w.WriteStartObject("handler");
        w.WriteString("callable", step.Handler);
        if (step.Initialization is { } init)
        {
            w.WritePropertyName("initialization");
            init.WriteTo(w);
        }
        w.WriteEndObject();
        w.WriteStartArray("dependencies");
        foreach (var dependency in step.Dependencies)
            w.WriteStringValue(dependency);
        w.WriteEndArray();
        w.WriteStartObject("retry");
        w.WriteBoolean("retryable", step.Retry.Retryable);
        if (step.Retry.MaxAttempts is { } max) w.WriteNumber("max_attempts", max);
        if (step.Retry.BackoffBaseSeconds is { } b) w.WriteNumber("backoff_base_seconds", b);
        if (step.Retry.MaxBackoffSeconds is { } m) w.WriteNumber("max_backoff_seconds", m);
        w.WriteEndObject();
        if (step.TimeoutSeconds is { } timeout) w.WriteNumber("timeout_seconds", timeout);
        if (step.Skippable) w.WriteBoolean("skippable", true);
        if (step.DependentSystem is { } system) w.WriteString("dependent_system", system);
        w.WriteEndObject();
    }

    private static void WriteDetails(Utf8JsonWriter w, TemplateDetails d)
    {
        if (d.ModuleNamespace is not null) w.WriteString("module_namespace", d.ModuleNamespace);
        if (d.TaskHandlerClass is not null) w.WriteString("task_handler_class", d.TaskHandlerClass);
        if (d.Concurrent is { } concurrent) w.WriteBoolean("concurrent", concurrent);
        if (d.DefaultDependentSystem is not null) w.WriteString("default_dependent_system", d.DefaultDependentSystem);
        if (d.NamedSteps is { } named)
        {
            w.WriteStartArray("named_steps");
            foreach (var name in named) w.WriteStringValue(name);
            w.WriteEndArray();
        }
    }
}
