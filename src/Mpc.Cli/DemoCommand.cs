using System.CommandLine;
using System.Diagnostics;
using Mpc.Client;
using Mpc.Crypto.Curves;

namespace Mpc.Cli;

/// <summary>
/// `mpc demo`: the whole product on one machine. Starts the `mpc-server` program as a child process on a
/// free loopback port (<see cref="ServerProcess"/>), creates a key through the real gRPC service, signs a
/// sample document, verifies it, prints what is needed to check the signature with OpenSSL, and stops the server.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var curveOption = new Option<string>("--curve") { Description = "secp256k1, p256 or p384", DefaultValueFactory = _ => "p256" };
        var outOption = new Option<DirectoryInfo?>("--out") { Description = "Directory for the server data, document, signature and public key (default: a new temporary directory)" };
        var browserOption = new Option<bool>("--browser") { Description = "Serve the browser example page (sign in the browser) instead, print its URL, and run until Ctrl+C" };
        var siteOption = new Option<DirectoryInfo?>("--site") { Description = $"With --browser: the published browser client's wwwroot (dotnet publish src/Mpc.Browser -c Release -o DIR; then DIR/wwwroot); default ${BrowserSiteVariable}, else browser/wwwroot beside mpc, else (mpc built from a source checkout) published once into that checkout's {BrowserSite.CacheDirectory}" };
        var command = new Command("demo", "Start mpc-server on a loopback port, create a split key, sign a sample document and verify it.") { curveOption, outOption, browserOption, siteOption };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(() => parse.GetValue(browserOption)
            ? RunBrowser(parse.GetValue(siteOption), parse.GetValue(outOption), cancellationToken)
            : Run(parse.GetValue(curveOption)!, parse.GetValue(outOption), cancellationToken)));
        return command;
    }

    /// <summary>Where `mpc demo --browser` finds the published browser client when --site is not given.</summary>
    public const string BrowserSiteVariable = BrowserSite.Variable;

    /// <summary>
    /// `mpc demo --browser`: mpc-server with gRPC-Web and the example page on one loopback port (the page's origin is
    /// the only one allowed), a development token, and the URL to open; runs until Ctrl+C.
    /// </summary>
    private static async Task<int> RunBrowser(DirectoryInfo? site, DirectoryInfo? outDirectory, CancellationToken cancellationToken)
    {
        ServerProgram program = ServerProcess.Locate();
        BrowserSite browserSite = BrowserSite.Resolve(site?.FullName, Environment.GetEnvironmentVariable(BrowserSiteVariable),
            AppContext.BaseDirectory, Environment.CurrentDirectory, BrowserSite.BuiltFrom);
        await browserSite.PublishAsync(cancellationToken);
        string siteDirectory = browserSite.Directory;
        string directory = outDirectory?.FullName ?? Directory.CreateTempSubdirectory("mpc-demo-").FullName;
        int webPort = FreeLoopbackPort();
        string origin = $"http://127.0.0.1:{webPort}";
        Step("Starting mpc-server with gRPC-Web and the example page");
        var clock = Stopwatch.StartNew();
        await using ServerProcess server = await ServerProcess.StartAsync(program, Path.Combine(directory, "server-data"), cancellationToken, new Dictionary<string, string>
        {
            ["Mpc__Web__Port"] = webPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mpc__Web__AllowedOrigins"] = origin,
            ["Mpc__Web__ServeExample"] = "true",
            ["Mpc__Web__ExampleDirectory"] = siteDirectory,
        });
        Done(clock, $"gRPC on {server.Address}, browsers on {origin}");
        string token = await server.MintTokenAsync("demo-user", TimeSpan.FromHours(8), cancellationToken);
        Console.WriteLine();
        Console.WriteLine("Open this page (the token is a development token for user demo-user, valid 8 hours):");
        Console.WriteLine($"  {origin}/#token={Uri.EscapeDataString(token)}");
        Console.WriteLine("The first visit creates this browser's proof parameters and a key; press Ctrl+C here to stop the server.");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        return 0;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<int> Run(string curveName, DirectoryInfo? outDirectory, CancellationToken cancellationToken)
    {
        ServerProgram program = ServerProcess.Locate(); // first, so a missing server is the only line printed
        CurveKind curveKind = EcCurve.Parse(curveName);
        EcCurve curve = EcCurve.Get(curveKind);
        string directory = outDirectory?.FullName ?? Directory.CreateTempSubdirectory("mpc-demo-").FullName;
        Directory.CreateDirectory(directory);
        string dataDirectory = Path.Combine(directory, "server-data");

        var clock = Stopwatch.StartNew();
        Step("Starting mpc-server (gRPC + Orleans silo, file storage) as a child process");
        await using ServerProcess server = await ServerProcess.StartAsync(program, dataDirectory, cancellationToken);
        Done(clock, $"listening on {server.Address}");

        string token = await server.MintTokenAsync("demo-user", TimeSpan.FromHours(1), cancellationToken);
        using var client = new MpcSignerClient(server.Address, token);

        clock.Restart();
        Step($"Distributed key generation on {curve.Name} (device parameters, Paillier key, Πprm, Πmod, Πfac, Πlog*)");
        MpcKey created;
        try
        {
            created = await client.CreateKeyAsync(curveKind, cancellationToken);
        }
        catch (MpcOutcomeUnknownException e)
        {
            e.PendingShare?.Dispose(); // a throwaway key: its share is not kept
            throw;
        }
        using MpcKey key = created;
        Done(clock, $"key {key.KeyId}");

        byte[] document = System.Text.Encoding.UTF8.GetBytes(
            $"Sample document signed by mpc-signer at {DateTimeOffset.UtcNow:O}.\nNeither the server nor this client ever held the whole key.\n");
        clock.Restart();
        Step("Two-party signature over gRPC");
        MpcSignature signature = await client.SignDataAsync(key, document, cancellationToken: cancellationToken);
        Done(clock, "signed");

        byte[] digest = MpcSignerClient.HashFor(curveKind, document);
        if (!key.VerifyDigest(digest, signature))
        {
            throw CliException.VerificationFailed("the signature does not verify (please report this)");
        }
        clock.Restart();
        Step("Second signature (two round trips: the first one left a commitment ready)");
        MpcSignature second = await client.SignDataAsync(key, document, cancellationToken: cancellationToken);
        Done(clock, key.VerifyDigest(digest, second) ? "signed and verified" : "FAILED");

        string docPath = Path.Combine(directory, "document.txt");
        string sigPath = Path.Combine(directory, "signature.der");
        string pemPath = Path.Combine(directory, "public.pem");
        await File.WriteAllBytesAsync(docPath, document, cancellationToken);
        await File.WriteAllBytesAsync(sigPath, signature.ToDer(), cancellationToken);
        await File.WriteAllTextAsync(pemPath, key.PublicKeyPem, cancellationToken);

        Console.WriteLine();
        Console.WriteLine($"Key id: {key.KeyId}");
        Console.WriteLine($"Public key ({pemPath}):");
        Console.Write(key.PublicKeyPem);
        Console.WriteLine($"Signature, DER ({sigPath}):");
        Console.WriteLine($"  {Convert.ToHexStringLower(signature.ToDer())}");
        Console.WriteLine($"Document: {docPath}");
        Console.WriteLine();
        Console.WriteLine("Verify it independently with OpenSSL:");
        Console.WriteLine($"  openssl dgst {(curveKind == CurveKind.P384 ? "-sha384" : "-sha256")} -verify {pemPath} -signature {sigPath} {docPath}");
        return 0;
    }

    private static void Step(string what) => Console.Error.Write($"{what}... ");

    private static void Done(Stopwatch clock, string result) => Console.Error.WriteLine($"{result} ({clock.ElapsedMilliseconds} ms)");
}
