using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AlignSharp.Cli.Tests;

/// <summary>`alignsharp serve`: one-line errors before anything listens, and a real server process that stops cleanly on SIGTERM.</summary>
public class ServeCommandTests(CleanErrorFolders folders) : IClassFixture<CleanErrorFolders>
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CleanErrorTests.Run(args);

    private static void FailsWith(int expected, string[] args, string says)
    {
        var (code, output, err) = Run(args);
        Assert.True(code == expected, $"exit code {code}, expected {expected}; stderr: {err}; stdout: {output}");
        Assert.Contains(says, err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Bad_folders_options_and_a_busy_port_are_one_line_errors()
    {
        FailsWith(2, ["serve"], "--model is required");
        FailsWith(2, ["serve", "--model", Path.Combine(folders.Root, "nope")], "no such folder");
        FailsWith(2, ["serve", "--model", folders.Root], "no config.json");
        FailsWith(2, ["serve", "--model", folders.Model, "--api-key-env", "ALIGNSHARP_TEST_UNSET_KEY"], "ALIGNSHARP_TEST_UNSET_KEY");
        FailsWith(2, ["serve", "--model", folders.Model, "--host", "example.org"], "--host example.org");
        FailsWith(2, ["serve", "--model", folders.Model, "--port", "70000"], "--port");

        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        int port = ((IPEndPoint)busy.LocalEndpoint).Port;
        FailsWith(1, ["serve", "--model", folders.Model, "--port", port.ToString()], $"127.0.0.1:{port}: the port is already in use");
    }

    [Fact]
    public async Task Serves_until_sigterm_with_the_key_required()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "alignsharp.dll"), "serve", "--model", folders.Model, "--port", "0", "--api-key-env", "SERVE_TEST_KEY" })
            start.ArgumentList.Add(a);
        start.Environment["SERVE_TEST_KEY"] = "sk-serve-test";
        using var process = Process.Start(start)!;
        try
        {
            string line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)) ?? throw new Xunit.Sdk.XunitException(await process.StandardError.ReadToEndAsync());
            Assert.StartsWith("serving model on http://127.0.0.1:", line);
            Assert.DoesNotContain("sk-serve-test", line);
            var api = new Uri(line.Split(' ')[3]);
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"{api}/models")).StatusCode);
            http.DefaultRequestHeaders.Authorization = new("Bearer", "sk-serve-test");
            Assert.Contains("\"id\":\"model\"", await http.GetStringAsync($"{api}/models"));

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()])) await kill.WaitForExitAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("stopped", await process.StandardOutput.ReadToEndAsync());
        }
        finally { if (!process.HasExited) process.Kill(); }
    }
}
