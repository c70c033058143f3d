using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Mpc.Browser.Tests.BrowserBesideCli;
using static Mpc.Browser.Tests.BrowserPage;

namespace Mpc.Browser.Tests;

/// <summary>
/// Device enrolment between the browser and the mpc command line, with the browser as either device: as the existing
/// device it waits for the new one and refreshes itself (as mpc device handover does); as the new device its pending
/// request is sealed in IndexedDB, so it survives a reload and is used once. Every signature is checked by openssl.
/// Expiry is reached with the test build's clock hook (advanceClockForTest).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserEnrolmentTests(BrowserApp app, ITestOutputHelper output)
{
    private const string Passphrase = "correct horse battery staple";

    /// <summary>handOver() in the page, its completion kept as window.completion; { handover, code, until }.</summary>
    private const string HandOverKeepingCompletion = """
        async ([keyId, request, code]) => {
          const { handover, code: handoverCode, until, completion } = await window.signer.handOver(keyId, { request, code });
          window.completion = completion.then(key => ({ key }), e => ({ error: e.message }));
          return { handover, code: handoverCode, until };
        }
        """;

    [ChromiumFact]
    public async Task The_browser_as_the_existing_device_refreshes_itself_once_the_command_line_device_has_enrolled_and_both_sign()
    {
        (MpcCli cli, Dictionary<string, string> environment, IBrowserContext context, IPage page, _) =
            await StartAsync(app, output, "browser-handover-user", "MPC_PASSPHRASE", Passphrase);
        using MpcCli ownedCli = cli;
        await using IBrowserContext ownedContext = context;
        (string keyId, string pem) = await CreateKeyInBrowserAsync(page);
        string x2Before = await ShareScalarHexAsync(page, keyId);

        (string request, string code) = await RequestWithCliAsync(cli, environment, keyId);
        string wrongCode = (await Evaluate(page, """
            async ([keyId, request]) => { try { await window.signer.handOver(keyId, { request, code: '000-000' }); return 'sealed'; } catch (e) { return e.message; } }
            """, new[] { keyId, request })).GetString()!;
        Assert.Contains("confirmation code does not match", wrongCode, StringComparison.Ordinal);

        JsonElement made = await Evaluate(page, HandOverKeepingCompletion, new[] { keyId, request, code });
        DateTimeOffset until = DateTimeOffset.Parse(made.GetProperty("until").GetString()!, CultureInfo.InvariantCulture);
        // The request (made a moment ago) lasts 15 minutes, the CLI's clock may be up to 5 behind this one, and the
        // enrolment may land 2 minutes after it opened the handover: the wait ends by this browser's clock 22 minutes on.
        Assert.InRange(until, DateTimeOffset.UtcNow.AddMinutes(20), DateTimeOffset.UtcNow.AddMinutes(22));
        await File.WriteAllTextAsync(cli.PathOf("browser.handover"), made.GetProperty("handover").GetString());
        // The handover's code is for this screen: the user types it on the command line device.
        string handoverCode = made.GetProperty("code").GetString()!;
        Assert.Matches("^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$", handoverCode);
        Assert.DoesNotContain(handoverCode, made.GetProperty("handover").GetString()!, StringComparison.Ordinal);
        string enrolledOutput = await cli.RunAsync(environment, "device", "enrol", "--pending", "cli.pending", "--handover", "browser.handover",
            "--handover-code", handoverCode, "--out", "enrolled.key");
        string cliDeviceId = enrolledOutput.Trim()["Device id: ".Length..];

        // The browser saw the new device and refreshed itself: completion names it, and the browser's x2 changed.
        JsonElement completion = await Evaluate(page, "async () => await window.completion");
        Assert.False(completion.TryGetProperty("error", out JsonElement error), error.ToString());
        JsonElement completed = completion.GetProperty("key");
        Assert.True(completed.GetProperty("refreshed").GetBoolean());
        Assert.Equal(cliDeviceId, completed.GetProperty("deviceId").GetString());
        Assert.Equal(pem, completed.GetProperty("publicKeyPem").GetString());
        Assert.NotEqual(x2Before, await ShareScalarHexAsync(page, keyId));
        string[] stages = [.. (await Evaluate(page, "async () => window.progress.map(p => p.stage)")).EnumerateArray().Select(s => s.GetString()!)];
        Assert.Equal(["handover-wait", "handover-enrolled", "refresh", "handover-done"],
            stages.SkipWhile(s => s != "handover-wait").Where(s => s.StartsWith("handover", StringComparison.Ordinal) || s == "refresh"));
        // The refreshed share is the sealed one: nothing is left pending.
        using JsonDocument stored = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!);
        Assert.Empty(stored.RootElement.GetProperty("pending").EnumerateArray());

        AssertOpensslVerifies(pem, "the browser after handing over", await Sign(page, keyId, "the browser after handing over"));
        const string document = "Certificate no. 9, signed from the command line after enrolling from the browser.";
        await File.WriteAllTextAsync(cli.PathOf("document.txt"), document);
        await cli.RunAsync(environment, "sign", "--key", "enrolled.key", "--in", "document.txt", "--out", "document.sig");
        AssertOpensslVerifies(pem, document, await File.ReadAllBytesAsync(cli.PathOf("document.sig")));
    }

    [ChromiumFact]
    public async Task A_handover_whose_new_device_never_enrols_rejects_its_completion_saying_to_refresh_and_the_browser_still_signs()
    {
        (MpcCli cli, Dictionary<string, string> environment, IBrowserContext context, IPage page, _) =
            await StartAsync(app, output, "browser-handover-timeout-user", "MPC_PASSPHRASE", Passphrase);
        using MpcCli ownedCli = cli;
        await using IBrowserContext ownedContext = context;
        (string keyId, string pem) = await CreateKeyInBrowserAsync(page);
        (string request, string code) = await RequestWithCliAsync(cli, environment, keyId);
        await Evaluate(page, HandOverKeepingCompletion, new[] { keyId, request, code });

        // Past the wait's end (the request's 15 minutes, the 5 minutes a new device's clock may lag and the 2 minutes of
        // grace: 22 minutes on), with no enrolment: the wait gives up at its next poll. (18 minutes, from before the lag
        // was counted, left the test waiting out the last 4 minutes in real time.)
        await Evaluate(page, "async () => await window.signer.advanceClockForTest(23)");
        string message = (await Evaluate(page, "async () => (await window.completion).error ?? 'resolved'")).GetString()!;
        Assert.Contains("no new device enrolled", message, StringComparison.Ordinal);
        Assert.Contains("call refresh(keyId) on this device after the new device has enrolled", message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);

        await Evaluate(page, "async keyId => await window.signer.refresh(keyId)", keyId);
        AssertOpensslVerifies(pem, "refreshed by hand", await Sign(page, keyId, "refreshed by hand"));
    }

    [ChromiumFact]
    public async Task A_handover_wait_stopped_by_its_AbortSignal_rejects_with_the_reason_the_handover_stays_valid_and_both_devices_sign()
    {
        (MpcCli cli, Dictionary<string, string> environment, IBrowserContext context, IPage page, _) =
            await StartAsync(app, output, "browser-handover-abort-user", "MPC_PASSPHRASE", Passphrase);
        using MpcCli ownedCli = cli;
        await using IBrowserContext ownedContext = context;
        (string keyId, string pem) = await CreateKeyInBrowserAsync(page);
        (string request, string code) = await RequestWithCliAsync(cli, environment, keyId);

        // A signal aborted before the call: refused with its reason, nothing sealed.
        string early = (await Evaluate(page, """
            async ([keyId, request, code]) => {
              try { await window.signer.handOver(keyId, { request, code, signal: AbortSignal.abort() }); return 'sealed'; }
              catch (e) { return e.name; }
            }
            """, new[] { keyId, request, code })).GetString()!;
        Assert.Equal("AbortError", early);

        // Aborted during the wait (which would otherwise last the request's 15 minutes and two more): the completion
        // rejects with the signal's reason within seconds (a 60-second race keeps a failure from hanging the test).
        JsonElement stopped = await Evaluate(page, """
            async ([keyId, request, code]) => {
              const controller = new AbortController();
              const { handover, code: handoverCode, completion } = await window.signer.handOver(keyId, { request, code, signal: controller.signal });
              controller.abort();
              const timeout = new Promise(resolve => setTimeout(() => resolve({ outcome: 'still waiting' }), 60000));
              const outcome = await Promise.race([
                completion.then(() => ({ outcome: 'resolved' }), e => ({ outcome: 'rejected', name: e.name })),
                timeout]);
              return { handover, handoverCode, ...outcome };
            }
            """, new[] { keyId, request, code });
        Assert.Equal("rejected", stopped.GetProperty("outcome").GetString());
        Assert.Equal("AbortError", stopped.GetProperty("name").GetString());

        // The handover stays valid: the command line enrols with it, and the browser, which still signs, refreshes by
        // hand as the rejection says.
        await File.WriteAllTextAsync(cli.PathOf("browser.handover"), stopped.GetProperty("handover").GetString());
        await cli.RunAsync(environment, "device", "enrol", "--pending", "cli.pending", "--handover", "browser.handover",
            "--handover-code", stopped.GetProperty("handoverCode").GetString()!, "--out", "enrolled.key");
        AssertOpensslVerifies(pem, "the browser after a stopped wait", await Sign(page, keyId, "the browser after a stopped wait"));
        await Evaluate(page, "async keyId => await window.signer.refresh(keyId)", keyId);
        AssertOpensslVerifies(pem, "refreshed after the stopped wait", await Sign(page, keyId, "refreshed after the stopped wait"));
        const string document = "Certificate no. 11, signed from the command line after a stopped handover wait.";
        await File.WriteAllTextAsync(cli.PathOf("document.txt"), document);
        await cli.RunAsync(environment, "sign", "--key", "enrolled.key", "--in", "document.txt", "--out", "document.sig");
        AssertOpensslVerifies(pem, document, await File.ReadAllBytesAsync(cli.PathOf("document.sig")));
    }

    [ChromiumFact]
    public async Task The_browser_as_the_new_device_keeps_its_request_sealed_across_a_reload_signs_after_the_handover_and_refuses_to_reuse_it()
    {
        (MpcCli cli, Dictionary<string, string> environment, IBrowserContext context, IPage page, string token) =
            await StartAsync(app, output, "browser-enrol-reload-user", "MPC_PASSPHRASE", Passphrase, signerPassphrase: Passphrase);
        using MpcCli ownedCli = cli;
        await using IBrowserContext ownedContext = context;
        (string keyId, string pem) = await CreateKeyWithCliAsync(cli, environment, "cli.key");

        JsonElement enrolment = await Evaluate(page, "async keyId => await window.signer.requestEnrolment(keyId)", keyId);
        string privateKeyHex = (await Evaluate(page, "async () => await window.signer.pendingEnrolmentKeyHexForTest()")).GetString()!;
        Assert.Equal(64, privateKeyHex.Length);
        string storedBefore = await AssertEnrolmentSealedAsync(page, keyId, privateKeyHex);
        Assert.Contains("\"passphrase\"", storedBefore, StringComparison.Ordinal); // the signer's passphrase layer too

        // A reload (a new worker): the request is found in IndexedDB.
        await page.ReloadAsync();
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token, Passphrase });
        Assert.Equal(storedBefore, await AssertEnrolmentSealedAsync(page, keyId, privateKeyHex));
        (string handover, string handoverCode) = await HandOverWithCliAsync(cli, environment, enrolment);

        // A mistyped code, the request's own code, or none: refused in one line, and the sealed request is kept as it was.
        string mistyped = handoverCode[..^1] + (handoverCode[^1] == 'Z' ? 'Y' : 'Z');
        foreach (string wrong in new[] { mistyped, enrolment.GetProperty("code").GetString()! })
        {
            string refused = await AcceptHandoverErrorAsync(page, handover, wrong);
            Assert.Contains("the handover code does not match this handover", refused, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', refused);
            Assert.Equal(storedBefore, await AssertEnrolmentSealedAsync(page, keyId, privateKeyHex));
        }
        string withoutCode = (await Evaluate(page, """
            async handover => { try { await window.signer.acceptHandover(handover); return 'enrolled'; } catch (e) { return e.message; } }
            """, handover)).GetString()!;
        Assert.Contains("acceptHandover needs the handover code", withoutCode, StringComparison.Ordinal);
        Assert.Equal(storedBefore, await AssertEnrolmentSealedAsync(page, keyId, privateKeyHex));

        JsonElement enrolled = await Evaluate(page, "async ([handover, code]) => await window.signer.acceptHandoverTimed(handover, { code })",
            new[] { handover, handoverCode.ToLowerInvariant() });
        Assert.Equal(keyId, enrolled.GetProperty("keyId").GetString());
        Assert.Equal(pem.Trim(), enrolled.GetProperty("publicKeyPem").GetString()!.Trim());
        const string document = "Certificate no. 10, signed in the browser after enrolling from the command line.";
        AssertOpensslVerifies(pem, document, await Sign(page, keyId, document));

        // Used once: the sealed request is gone, and the same handover is refused with what to do.
        using (JsonDocument after = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!))
        {
            Assert.Empty(after.RootElement.GetProperty("enrolment").EnumerateArray());
        }
        string again = await AcceptHandoverErrorAsync(page, handover, handoverCode);
        Assert.Contains("no enrolment request is pending in this browser", again, StringComparison.Ordinal);
        Assert.Contains("call requestEnrolment(keyId)", again, StringComparison.Ordinal);

        string figures = string.Create(CultureInfo.InvariantCulture,
            $"browser enrolment (headless chromium): acceptHandover (open, enrolment refresh, seal) {enrolled.GetProperty("milliseconds").GetDouble():F0} ms");
        output.WriteLine(figures);
        Console.WriteLine(figures);
    }

    [ChromiumFact]
    public async Task An_expired_pending_enrolment_is_deleted_and_refused_with_a_clear_message_after_a_reload()
    {
        (MpcCli cli, Dictionary<string, string> environment, IBrowserContext context, IPage page, string token) =
            await StartAsync(app, output, "browser-enrol-expired-user", "MPC_PASSPHRASE", Passphrase);
        using MpcCli ownedCli = cli;
        await using IBrowserContext ownedContext = context;
        (string keyId, _) = await CreateKeyWithCliAsync(cli, environment, "cli.key");
        JsonElement enrolment = await Evaluate(page, "async keyId => await window.signer.requestEnrolment(keyId)", keyId);
        (string handover, string handoverCode) = await HandOverWithCliAsync(cli, environment, enrolment);

        await page.ReloadAsync();
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        await Evaluate(page, "async () => await window.signer.advanceClockForTest(16)");
        string expired = await AcceptHandoverErrorAsync(page, handover, handoverCode);
        Assert.Contains("enrolment request expired", expired, StringComparison.Ordinal);
        Assert.Contains("deleted", expired, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', expired);
        using (JsonDocument after = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!))
        {
            Assert.Empty(after.RootElement.GetProperty("enrolment").EnumerateArray());
        }
        Assert.Contains("no enrolment request is pending", await AcceptHandoverErrorAsync(page, handover, handoverCode), StringComparison.Ordinal);
    }

    /// <summary>`mpc device request` for <paramref name="keyId"/> into cli.pending: the request token and the code.</summary>
    private static async Task<(string Request, string Code)> RequestWithCliAsync(MpcCli cli, IReadOnlyDictionary<string, string> environment, string keyId)
    {
        (string stdout, string stderr) = await cli.RunWithStderrAsync(environment, "device", "request", "--pending", "cli.pending", "--key-id", keyId);
        // The code is on the terminal (stderr) only; stdout is the request alone.
        const string CodeLine = "Confirmation code: ";
        string code = stderr.Split('\n', StringSplitOptions.TrimEntries).Single(l => l.StartsWith(CodeLine, StringComparison.Ordinal))[CodeLine.Length..];
        return (stdout.Trim(), code);
    }

    /// <summary>
    /// `mpc device handover --no-wait` of cli.key for the browser's request (with its code): the handover text, and the
    /// handover's code, which mpc shows on the terminal (stderr) only.
    /// </summary>
    private static async Task<(string Handover, string Code)> HandOverWithCliAsync(MpcCli cli, IReadOnlyDictionary<string, string> environment, JsonElement enrolment)
    {
        (string stdout, string stderr) = await cli.RunWithStderrAsync(environment, "device", "handover", "--key", "cli.key", "--request", enrolment.GetProperty("request").GetString()!,
            "--code", enrolment.GetProperty("code").GetString()!, "--out", "cli.handover", "--no-wait");
        const string CodeLine = "Handover code: ";
        string code = stderr.Split('\n', StringSplitOptions.TrimEntries).Single(l => l.StartsWith(CodeLine, StringComparison.Ordinal))[CodeLine.Length..];
        Assert.DoesNotContain(code, stdout, StringComparison.Ordinal);
        return (await File.ReadAllTextAsync(cli.PathOf("cli.handover")), code);
    }

    private static async Task<string> AcceptHandoverErrorAsync(IPage page, string handover, string code) => (await Evaluate(page, """
        async ([handover, code]) => { try { await window.signer.acceptHandover(handover, { code }); return 'enrolled'; } catch (e) { return e.message; } }
        """, new[] { handover, code })).GetString()!;

    /// <summary>
    /// The one enrolment record names the key and is sealed: its private key appears nowhere in IndexedDB. The
    /// record as JSON.
    /// </summary>
    private static async Task<string> AssertEnrolmentSealedAsync(IPage page, string keyId, string privateKeyHex)
    {
        string dump = (await Evaluate(page, DumpIndexedDb)).GetString()!;
        Assert.DoesNotContain(privateKeyHex, dump, StringComparison.OrdinalIgnoreCase);
        using JsonDocument stored = JsonDocument.Parse(dump);
        JsonElement record = Assert.Single(stored.RootElement.GetProperty("enrolment").EnumerateArray());
        Assert.Equal(keyId, record.GetProperty("keyId").GetString());
        Assert.True(record.TryGetProperty("sealed", out _));
        return record.GetRawText();
    }
}
