// dotnet-kestrel is wsbench's .NET reference echo server: ASP.NET Core on
// Kestrel with the WebSockets middleware, one async handler per connection,
// published with Native AOT.
//
// Same command-line contract as wsbench-echo (see servers/README.md):
// --port N (default 9001, 0 = any free port), --host ADDR (default
// 127.0.0.1), --max-message-size BYTES (default 16 MiB), --tls-cert FILE
// --tls-key FILE (wss://: Kestrel's HTTPS), --deflate (the WebSockets
// middleware's compression). It prints "READY ws[s]://HOST:PORT/" on stdout
// once listening; SIGTERM/SIGINT close every
// connection with 1001 and exit 0.

using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace WsBench.DotnetKestrel;

internal sealed class Options
{
    public string Host = "127.0.0.1";
    public int Port = 9001;
    public int MaxMessage = 16 << 20;
    public string? TlsCert;
    public string? TlsKey;
    public bool Deflate;
}

internal static class Program
{
    private const string Name = "dotnet-kestrel";
    private const string Usage = "usage: dotnet-kestrel [--port N] [--host ADDR] [--max-message-size BYTES]\n" +
                                 "                      [--tls-cert FILE --tls-key FILE] [--deflate]";

    // Every connection starts with a 4 KiB receive buffer (gorilla's read
    // buffer, Kestrel's memory-pool block); bigger messages grow it by
    // doubling with ArrayPool buffers, and after a message above 64 KiB it goes
    // back to the pool so that idle connections hold little.
    private const int InitialBuffer = 4096;
    private const int KeepBuffer = 64 * 1024;

    // The SIGTERM/SIGINT registrations, alive for the whole process.
    private static PosixSignalRegistration[]? s_signals;

    private static async Task<int> Main(string[] args)
    {
        Options opts = ParseArgs(args);

        // --tls-cert/--tls-key: loaded before READY, so a bad file is named.
        X509Certificate2? cert = null;
        if (opts.TlsCert is not null)
        {
            try
            {
                cert = X509Certificate2.CreateFromPemFile(opts.TlsCert, opts.TlsKey);
            }
            catch (Exception e)
            {
                Fail($"--tls-cert {opts.TlsCert} / --tls-key {opts.TlsKey}: {e.Message}");
            }
        }

        IPAddress ip;
        if (!IPAddress.TryParse(opts.Host, out ip!))
        {
            try
            {
                IPAddress[] found = Dns.GetHostAddresses(opts.Host);
                ip = Array.Find(found, a => a.AddressFamily == AddressFamily.InterNetwork)
                     ?? (found.Length > 0 ? found[0] : throw new SocketException((int)SocketError.HostNotFound));
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"{Name}: --host {opts.Host}: {e.Message}");
                return 1;
            }
        }

        // The empty builder: no configuration sources (no appsettings.json,
        // no environment variables, and so no file watcher on the working
        // directory, which CreateSlimBuilder's reloadable appsettings.json
        // adds), no logging providers, no MVC, no HTTPS: Kestrel core and the
        // socket transport only. Logging off is also what TechEmpower's
        // ASP.NET Core entries do; stdout carries the READY line and nothing
        // else.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(
            new WebApplicationOptions { Args = Array.Empty<string>() });
        builder.WebHost.UseKestrelCore();
        // Signals are ours (below): the console lifetime would stop the host on
        // SIGTERM with its 30 s shutdown timeout and no 1001 for the clients.
        builder.Services.AddSingleton<IHostLifetime, SignalLifetime>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            // No "Server: Kestrel" header in the 101 response.
            k.AddServerHeader = false;
            // No connection limits (the defaults, stated): the benchmark
            // decides how many connections there are.
            k.Limits.MaxConcurrentConnections = null;
            k.Limits.MaxConcurrentUpgradedConnections = null;
            // HTTP/1.1 only: WebSocket upgrades need nothing else, and Kestrel
            // then skips sniffing every new connection for an HTTP/2 preface.
            k.Listen(ip, opts.Port, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                if (cert is not null)
                {
                    l.UseHttps(cert);
                }
            });
        });
        builder.WebHost.UseSockets(s =>
        {
            // The listen backlog of node-ws and of Go (somaxconn): a thousand
            // clients connecting at once are not dropped and retried after 1 s.
            s.Backlog = 4096;
            // TechEmpower's setting: read straight into a pool block instead of
            // a zero-byte read first; saves a syscall per read, costs each
            // connection a 4 KiB block while it waits.
            s.WaitForDataBeforeAllocatingBuffer = false;
            // TCP_NODELAY (the default, stated): small echoes do not wait.
            s.NoDelay = true;
        });

        WebApplication app = builder.Build();
        // No server pings (KeepAliveInterval zero): they would add frames the
        // load generator did not ask for. Any Origin is accepted (default);
        // permessage-deflate stays off unless --deflate (then
        // AcceptWebSocketAsync with DangerousEnableCompression: .NET's
        // defaults, context takeover and 15-bit windows when offered).
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        var registry = new Registry();
        int maxMessage = opts.MaxMessage;
        var accept = new WebSocketAcceptContext { DangerousEnableCompression = opts.Deflate };
        app.Run(ctx => Handle(ctx, registry, maxMessage, accept));

        // Handlers first: a supervisor may signal as soon as it reads READY.
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(PosixSignalContext c)
        {
            c.Cancel = true; // no default termination: we exit 0 ourselves
            stop.TrySetResult();
        }
        // Kept registered until the process is gone (never disposed): a
        // second SIGTERM during shutdown, or after Main returns, would
        // otherwise meet the default action and end the process with it
        // instead of exit status 0.
        s_signals = new[]
        {
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
        };

        try
        {
            await app.StartAsync();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{Name}: {e.Message}");
            return 1;
        }

        ICollection<string> addresses = app.Services.GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!.Addresses;
        int port = opts.Port;
        foreach (string a in addresses)
        {
            // "http://127.0.0.1:43567", "http://[::1]:43567": the bound port.
            port = int.Parse(a.AsSpan(a.LastIndexOf(':') + 1).TrimEnd('/'), CultureInfo.InvariantCulture);
            break;
        }
        Console.Out.Write($"READY {(cert is null ? "ws" : "wss")}://{new IPEndPoint(ip, port)}/\n");
        Console.Out.Flush();

        await stop.Task;
        // Kestrel stops accepting at once and then waits for the open
        // connections until the token fires (1 s), aborting what is left.
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        Task stopping = app.StopAsync(grace.Token);
        await registry.CloseAll();
        try
        {
            await stopping;
        }
        catch (OperationCanceledException)
        {
        }
        return 0;
    }

    private static async Task Handle(HttpContext ctx, Registry registry, int maxMessage,
                                     WebSocketAcceptContext accept)
    {
        if (!ctx.WebSockets.IsWebSocketRequest)
        {
            ctx.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        WebSocket ws;
        try
        {
            ws = await ctx.WebSockets.AcceptWebSocketAsync(accept);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException)
        {
            return;
        }
        if (!registry.Add(ws))
        {
            // Accepted while shutting down: say goodbye at once.
            await Registry.SayGoodbye(ws);
        }
        try
        {
            await Echo(ws, maxMessage);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException
                                    or InvalidOperationException)
        {
            // The peer went away, broke the protocol (ManagedWebSocket has
            // already sent 1002/1007) or we are shutting down.
        }
        finally
        {
            registry.Remove(ws);
        }
        // No ws.Dispose(): the WebSocket that AcceptWebSocketAsync returns
        // aborts the HTTP connection when disposed (a TCP reset, which can
        // destroy our close frame and echoes still unread by the peer).
        // Returning ends the request and Kestrel closes the connection with
        // a FIN after the output is flushed.
    }

    private static async Task Echo(WebSocket ws, int maxMessage)
    {
        byte[] buf = ArrayPool<byte>.Shared.Rent(InitialBuffer);
        byte[]? probe = null;
        try
        {
            while (true)
            {
                // One message, reassembled from however many frames it came in.
                int len = 0;
                ValueWebSocketReceiveResult r;
                while (true)
                {
                    int cap = Math.Min(buf.Length, maxMessage);
                    if (len == cap && cap < maxMessage)
                    {
                        byte[] bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * buf.Length, maxMessage));
                        buf.AsSpan(0, len).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buf);
                        buf = bigger;
                        cap = Math.Min(buf.Length, maxMessage);
                    }
                    // At the limit, one more byte (but not an empty final
                    // fragment) makes the message too big.
                    bool atLimit = len == cap;
                    Memory<byte> space = atLimit ? (probe ??= new byte[1]) : buf.AsMemory(len, cap - len);
                    r = await ws.ReceiveAsync(space, CancellationToken.None);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        // Echo the peer's close code (ManagedWebSocket reports
                        // a close without one as 1000, which is what goes
                        // back); after our own 1001 this is the peer's reply.
                        if (ws.State == WebSocketState.CloseReceived)
                        {
                            await ws.CloseOutputAsync(ws.CloseStatus ?? WebSocketCloseStatus.Empty, null,
                                                      CancellationToken.None);
                        }
                        return;
                    }
                    if (atLimit && r.Count > 0)
                    {
                        await FailConnection(ws, WebSocketCloseStatus.MessageTooBig);
                        return;
                    }
                    len += r.Count;
                    if (r.EndOfMessage)
                    {
                        break;
                    }
                }
                // ManagedWebSocket has validated the UTF-8 of text messages
                // across fragments and failed the connection with 1007 if not.
                await ws.SendAsync(buf.AsMemory(0, len), r.MessageType, true, CancellationToken.None);
                if (buf.Length > KeepBuffer)
                {
                    ArrayPool<byte>.Shared.Return(buf);
                    buf = ArrayPool<byte>.Shared.Rent(InitialBuffer);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
        }
    }

    // Sends a close frame with status, then reads and discards what the peer
    // still sends until its close arrives (at most 2 s), so that the close
    // frame is not lost to a TCP reset over unread data.
    private static async Task FailConnection(WebSocket ws, WebSocketCloseStatus status)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await ws.CloseAsync(status, null, cts.Token);
    }

    private static Options ParseArgs(string[] args)
    {
        var opts = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string name = arg;
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (eq >= 0)
            {
                name = arg[..eq];
                inline = arg[(eq + 1)..];
            }
            string? value = null;
            bool takesValue = name is "--port" or "--host" or "--max-message-size" or "--tls-cert" or "--tls-key";
            if (takesValue)
            {
                value = inline ?? (i + 1 < args.Length ? args[++i] : null);
            }
            switch (name)
            {
                case "--port":
                    opts.Port = (int)ParseInt(name, value, 0, 65535);
                    break;
                case "--host":
                    if (string.IsNullOrEmpty(value))
                    {
                        Fail("--host needs a value");
                    }
                    opts.Host = value;
                    break;
                case "--max-message-size":
                    opts.MaxMessage = (int)ParseInt(name, value, 1, 1L << 30);
                    break;
                case "--tls-cert":
                case "--tls-key":
                    if (string.IsNullOrEmpty(value))
                    {
                        Fail($"{name} needs a value");
                    }
                    if (name == "--tls-cert")
                    {
                        opts.TlsCert = value;
                    }
                    else
                    {
                        opts.TlsKey = value;
                    }
                    break;
                case "--deflate":
                    if (inline is not null)
                    {
                        Fail("--deflate takes no value");
                    }
                    opts.Deflate = true;
                    break;
                case "--help":
                case "-h":
                    Console.Out.Write(Usage + "\n");
                    Console.Out.Flush();
                    Environment.Exit(0);
                    break;
                default:
                    Fail(arg.StartsWith('-') ? $"unknown option '{arg}'" : $"unexpected argument '{arg}'");
                    break;
            }
        }
        if ((opts.TlsCert is null) != (opts.TlsKey is null))
        {
            Fail("--tls-cert and --tls-key go together");
        }
        return opts;
    }

    private static long ParseInt(string name, string? value, long min, long max)
    {
        if (value is null)
        {
            Fail($"{name} needs a value");
        }
        if (value.Length == 0 || value.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            Fail($"{name}: not a number: '{value}'");
        }
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n < min || n > max)
        {
            Fail($"{name}: must be {min}..{max}, got {value}");
        }
        return n;
    }

    [DoesNotReturn]
    private static void Fail(string message)
    {
        Console.Error.Write($"{Name}: {message}\n{Usage}\n");
        Environment.Exit(2);
    }
}

// Remembers open connections so that shutdown can say goodbye (1001) to each;
// Kestrel does not know what an upgraded connection speaks.
internal sealed class Registry
{
    private readonly object _lock = new();
    private readonly HashSet<WebSocket> _open = new();
    private bool _closing;

    public bool Add(WebSocket ws)
    {
        lock (_lock)
        {
            if (_closing)
            {
                return false;
            }
            _open.Add(ws);
            return true;
        }
    }

    public void Remove(WebSocket ws)
    {
        lock (_lock)
        {
            _open.Remove(ws);
        }
    }

    public Task CloseAll()
    {
        WebSocket[] all;
        lock (_lock)
        {
            _closing = true;
            all = new WebSocket[_open.Count];
            _open.CopyTo(all);
        }
        var sends = new Task[all.Length];
        for (int i = 0; i < all.Length; i++)
        {
            sends[i] = SayGoodbye(all[i]);
        }
        return Task.WhenAll(sends);
    }

    // ManagedWebSocket serialises this close frame with a send the echo loop
    // may have in progress; the echo loop then reads the peer's reply.
    public static async Task SayGoodbye(WebSocket ws)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            await ws.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "server shutting down", cts.Token);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException
                                    or InvalidOperationException)
        {
            // Already closing or gone (ObjectDisposedException is an
            // InvalidOperationException): nothing to say.
        }
    }
}

// The host's lifetime without the console lifetime's signal handling: Main
// installs its own SIGTERM/SIGINT handlers and stops the host itself.
internal sealed class SignalLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
