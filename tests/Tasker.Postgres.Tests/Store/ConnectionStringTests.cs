using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Connection;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>URL conversion and masking: pure functions, no database needed.</summary>
public sealed class ConnectionStringTests
{
    [Fact]
    public void A_postgres_url_becomes_an_npgsql_connection_string()
    {
        var cs = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Normalize(
            "postgres://app%40corp:s%3Acret@db.example.com:6543/orders?sslmode=require&application_name=worker+1&connect_timeout=7"));
        Assert.Equal(("app@corp", "s:cret", "db.example.com", 6543, "orders"), (cs.Username, cs.Password, cs.Host, cs.Port, cs.Database));
        Assert.Equal((SslMode.Require, "worker 1", 7), (cs.SslMode, cs.ApplicationName, cs.Timeout));
    }

    [Fact]
    public void A_url_without_password_or_port_uses_the_defaults()
    {
        var cs = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Normalize("postgresql://postgres@127.0.0.1/tasker"));
        Assert.Equal(("postgres", null, "127.0.0.1", 5432, "tasker"), (cs.Username, cs.Password, cs.Host, cs.Port, cs.Database));
    }

    [Fact]
    public void A_key_value_string_passes_through()
    {
        const string kv = "Host=h;Username=u;Database=d";
        Assert.Equal(kv, PostgresConnectionString.Normalize(kv));
    }

    [Fact]
    public void Unknown_url_parameters_and_bad_urls_are_rejected_without_echoing_the_password()
    {
        var e = Assert.Throws<TaskerException>(() => PostgresConnectionString.Normalize("postgres://u:hunter2@h/d?frobnicate=1"));
        Assert.Equal(TaskerErrorCode.InvalidArgument, e.Code);
        Assert.Contains("frobnicate", e.Message, StringComparison.Ordinal);
        var bad = Assert.Throws<TaskerException>(() => PostgresConnectionString.FromUrl("postgres://u:hunter2@[bad"));
        Assert.DoesNotContain("hunter2", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pool_prepares_statements_and_forces_generic_plans_unless_told_otherwise()
    {
        using var defaults = DataSourceFactory.Create(new PostgresStoreOptions { ConnectionString = "Host=h;Username=u", Schema = "tasker_x" });
        var cs = new NpgsqlConnectionStringBuilder(defaults.ConnectionString);
        Assert.Equal((32, "tasker_x", true), (cs.MaxAutoPrepare, cs.SearchPath, cs.NoResetOnClose));
        Assert.Contains("plan_cache_mode=force_generic_plan", cs.Options, StringComparison.Ordinal);

        using var behindPooler = DataSourceFactory.Create(new PostgresStoreOptions
        { ConnectionString = "postgres://u@h/db?Max+Auto+Prepare=0", ForceGenericPlans = false });
        cs = new NpgsqlConnectionStringBuilder(behindPooler.ConnectionString);
        Assert.Equal(0, cs.MaxAutoPrepare);
        Assert.Null(cs.Options);
    }

    [Theory]
    [InlineData("postgres://user:hunter2@host:5432/db", "postgres://user:***@host:5432/db")]
    [InlineData("Host=h;Username=u;Password=hunter2;Database=d", "Host=h;Username=u;Password=***;Database=d")]
    [InlineData("Host=h;Password='hunter2;x';Database=d", "Host=h;Password=***;Database=d")]
    [InlineData("postgres://h/db?password=hunter2&sslmode=require", "postgres://h/db?password=***&sslmode=require")]
    [InlineData("Host=h;PWD=hunter2", "Host=h;PWD=***")]
    public void Passwords_are_masked(string input, string expected) =>
        Assert.Equal(expected, PostgresConnectionString.Mask(input));
}
