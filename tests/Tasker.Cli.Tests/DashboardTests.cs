using System.Net;
using System.Text.Json;
using Tasker.Cli.Dashboard;
using Tasker.Core;
using Tasker.Cli.Tests.Support;
using Xunit;

namespace Tasker.Cli.Tests;

/// <summary>The dashboard over HTTP: pages, escaping, the token rules for actions, and the JSON API.</summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private const string Token = "let-me-in-0123456789";
    private readonly SeededStore _db = new();
    private Session _session = null!;
    private DashboardServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        _session = await Session.OpenAsync(_db.Url, _db.Schema, migrate: false, CancellationToken.None);
        _server = await DashboardServer.StartAsync(_session, "127.0.0.1", 0, Token, CancellationToken.None);
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_server.Address) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        await _session.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostFormAsync(string path, params (string Key, string Value)[] fields) =>
        _http.PostAsync(path, new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))));

    [Fact]
    public async Task The_list_warns_when_autovacuum_lets_dead_task_rows_pile_up_and_the_api_reports_the_tables()
    {
        Assert.DoesNotContain("id=\"vacuum\"", await _http.GetStringAsync("/"));

        await _db.ExecuteAsync("ALTER TABLE tasker_tasks SET (autovacuum_enabled = false)");

        Assert.Contains("<div class=\"flash bad\" id=\"vacuum\">autovacuum is off for tasker_tasks;", await _http.GetStringAsync("/"));
        using var stats = JsonDocument.Parse(await _http.GetStringAsync("/api/stats"));
        var tasks = stats.RootElement.GetProperty("tables").EnumerateArray().Single(t => t.GetProperty("table").GetString() == "tasker_tasks");
        Assert.Equal((false, true), (tasks.GetProperty("autovacuum").GetBoolean(), tasks.GetProperty("dead_rows_pile_up").GetBoolean()));
    }

    [Fact]
    public async Task The_list_shows_counts_by_state_and_filters()
    {
        var html = await _http.GetStringAsync("/");
        Assert.Contains($"/tasks/{_db.Failed}", html);
        Assert.Contains("<span class=\"state s-error\">error</span> 1", html);
        Assert.Contains("ready steps nobody holds: <code>ValidateOrder</code> 1</p>", html); // the stuck order's first step
        var filtered = await _http.GetStringAsync("/?state=complete");
        Assert.Contains($"/tasks/{_db.Done}", filtered);
        Assert.DoesNotContain($"/tasks/{_db.Failed}", filtered);
    }

    [Fact]
    public async Task The_task_page_escapes_user_data_and_explains_the_failure()
    {
        var response = await _http.GetAsync($"/tasks/{_db.Failed}");
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("default-src 'none';", response.Headers.GetValues("Content-Security-Policy").Single()); // no script may run at all
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase); // neither the context's nor the error's
        Assert.Contains("&lt;script&gt;alert(", html);
        Assert.Contains("<svg", html);
        Assert.Contains("data-state=\"error\"", html);
        Assert.Contains("blocked: charge failed", html);
        Assert.Contains("app/payments.rb:12:in `charge&#x27;", html); // the backtrace, escaped
        Assert.Contains("id=\"audit\"", html);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"/tasks/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task Actions_need_the_token_and_then_record_the_actor()
    {
        Assert.Equal(HttpStatusCode.Forbidden, (await PostFormAsync($"/tasks/{_db.Failed}/retry")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostFormAsync($"/tasks/{_db.Failed}/retry", ("token", "wrong"))).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await _http.GetAsync($"/tasks/{_db.Failed}/retry")).StatusCode);
        Assert.Equal("error", (await _session.Engine.GetTaskAsync(_db.Failed)).State.ToWire());

        var done = await PostFormAsync($"/tasks/{_db.Failed}/retry", ("token", Token), ("actor", "carol"), ("reason", "declined card replaced"));
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal($"/tasks/{_db.Failed}?done=retry", done.Headers.Location!.ToString());
        var view = await _session.Engine.GetTaskAsync(_db.Failed, includeTransitions: true);
        Assert.Equal("pending", view.State.ToWire());
        Assert.Contains(view.Transitions, t => t.Actor == "carol" && t.Reason == "declined card replaced");
        Assert.Contains("retry: done", await _http.GetStringAsync(done.Headers.Location));

        var resolve = await PostFormAsync($"/tasks/{_db.Failed}/resolve", ("token", Token), ("step", "charge"), ("result", "{\"manual\":true}"));
        Assert.Equal(HttpStatusCode.SeeOther, resolve.StatusCode);
        Assert.Equal("resolved_manually", (await _session.Engine.GetTaskAsync(_db.Failed)).Step("charge").State.ToWire());
    }

    [Fact]
    public async Task The_json_api_serves_the_same_data_and_acts_with_the_token_header()
    {
        var list = JsonDocument.Parse(await _http.GetStringAsync("/api/tasks?state=error")).RootElement;
        Assert.Equal(_db.Failed, list.GetProperty("tasks")[0].GetProperty("task_uuid").GetGuid());
        var task = JsonDocument.Parse(await _http.GetStringAsync($"/api/tasks/{_db.Failed}")).RootElement;
        Assert.Equal(SeededStore.ScriptError, task.GetProperty("steps")[1].GetProperty("error").GetProperty("message").GetString());
        var stale = JsonDocument.Parse(await _http.GetStringAsync("/api/stale")).RootElement;
        Assert.Equal("ValidateOrder", stale.GetProperty("unclaimed_steps")[0].GetProperty("handler").GetString());
        var stats = JsonDocument.Parse(await _http.GetStringAsync("/api/stats")).RootElement;
        Assert.Equal(1, stats.GetProperty("tasks_by_state").GetProperty("error").GetInt64());
        Assert.Equal(1, stats.GetProperty("ready_steps_by_handler").GetProperty("ValidateOrder").GetInt64());
        Assert.Equal("fulfil", JsonDocument.Parse(await _http.GetStringAsync("/api/templates")).RootElement.GetProperty("templates")[0].GetProperty("name").GetString());

        var refused = await _http.PostAsync($"/api/tasks/{_db.Stuck}/cancel", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/tasks/{_db.Stuck}/cancel")
        {
            Content = new StringContent("""{"actor": "api-user", "reason": "duplicate order"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Tasker-Token", Token);
        var cancelled = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("cancelled", JsonDocument.Parse(await cancelled.Content.ReadAsStringAsync()).RootElement.GetProperty("task_state").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"/api/tasks/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task Without_a_token_the_dashboard_is_read_only()
    {
        await using var readOnly = await DashboardServer.StartAsync(_session, "127.0.0.1", 0, token: null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(readOnly.Address) };
        var html = await http.GetStringAsync($"/tasks/{_db.Failed}");
        Assert.Contains("Actions are off", html);
        Assert.Contains("id=\"retry\" disabled", html);
        var refused = await http.PostAsync($"/tasks/{_db.Failed}/retry", new FormUrlEncodedContent([new("token", "")]));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("error", (await _session.Engine.GetTaskAsync(_db.Failed)).State.ToWire());
    }

    [Fact]
    public async Task Stale_and_templates_pages()
    {
        var stale = await _http.GetStringAsync("/stale");
        Assert.Contains("Pending tasks nobody drove", stale);
        Assert.Contains("ValidateOrder", stale);
        Assert.Contains("Nothing stuck.", await _http.GetStringAsync("/stale?unclaimed_after=3h&pending_after=3h"));
        Assert.Contains("Fulfil an order", await _http.GetStringAsync("/templates"));
    }
}
