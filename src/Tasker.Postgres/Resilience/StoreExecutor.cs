using Npgsql;
using Polly;

namespace Tasker.Postgres.Resilience;

/// <summary>
/// Runs one store operation through the resilience pipeline and translates what escapes it into
/// <see cref="Tasker.Core.TaskerException"/>. The operation must be safe to run again from the start: each attempt
/// opens its own connection and re-reads what it needs.
/// </summary>
internal sealed class StoreExecutor(NpgsqlDataSource dataSource, ResiliencePipeline pipeline, string? password)
{
    public NpgsqlDataSource DataSource => dataSource;

    public async ValueTask<T> RunAsync<T, TState>(string operation, TState state,
        Func<NpgsqlConnection, TState, CancellationToken, ValueTask<T>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await pipeline.ExecuteAsync(static async (args, token) =>
            {
                await using var connection = await args.dataSource.OpenConnectionAsync(token).ConfigureAwait(false);
                return await args.body(connection, args.state, token).ConfigureAwait(false);
            }, (dataSource, state, body), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (DatabaseErrors.Map(e, operation, password) is { } mapped)
                throw mapped;
            throw;
        }
    }
}
