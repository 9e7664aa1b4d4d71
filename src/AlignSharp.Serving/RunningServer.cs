using Microsoft.AspNetCore.Builder;

namespace AlignSharp.Serving;

/// <summary>A started <see cref="OpenAiCompatibleServer"/>: where it listens, what it is doing, and how to stop it.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Admission _admission;

    internal RunningServer(WebApplication app, Uri baseAddress, ServedModel model, Admission admission)
    {
        _app = app;
        BaseAddress = baseAddress;
        Model = model;
        _admission = admission;
    }

    /// <summary>The root URL, e.g. http://127.0.0.1:8000/ (the bound port when started with port 0).</summary>
    public Uri BaseAddress { get; }
    /// <summary>The OpenAI API base a client is given: <see cref="BaseAddress"/> + "v1".</summary>
    public Uri ApiBase => new(BaseAddress, "v1");
    public ServedModel Model { get; }
    /// <summary>Sequences taken on by requests now (running in the batcher or waiting for a slot).</summary>
    public int PendingSequences => _admission.Pending;
    /// <summary>Sequences ended early since start because their client disconnected.</summary>
    public long CancelledSequences => _admission.Cancelled;

    /// <summary>Stops accepting requests, lets running ones finish within <paramref name="cancellationToken"/>, and closes the port.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        // Requests still running are given a moment, then cancelled (RequestAborted) so their slots free.
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _app.StopAsync(grace.Token); } catch (OperationCanceledException) { }
        await _app.DisposeAsync();
    }
}
