using Microsoft.Extensions.Options;
using Mpc.Client.Custody;

namespace Mpc.Client.DependencyInjection;

/// <summary>
/// Checks <see cref="MpcSignerOptions"/> with the client's own rules (<see cref="TransportSecurity.Check"/> for the
/// address), so a configuration mistake is one message naming the setting instead of a failure at the first call.
/// </summary>
internal sealed class MpcSignerOptionsValidator : IValidateOptions<MpcSignerOptions>
{
    private const string Prefix = MpcSignerOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, MpcSignerOptions options)
    {
        var failures = new List<string>();
        if (options.Address is null)
        {
            failures.Add($"{Prefix}{nameof(MpcSignerOptions.Address)} is required (the signing server's https URL).");
        }
        else
        {
            try
            {
                TransportSecurity.Check(options.Address, new MpcSignerClientOptions { AllowInsecureHttp = options.AllowInsecureHttp });
            }
            catch (ArgumentException e)
            {
                failures.Add($"{Prefix}{nameof(MpcSignerOptions.Address)}: {FirstSentence(e.Message)}");
            }
        }
        if (string.IsNullOrWhiteSpace(options.Token) == (options.TokenProvider is null))
        {
            failures.Add($"{Prefix}: set exactly one of {nameof(MpcSignerOptions.Token)} and {nameof(MpcSignerOptions.TokenProvider)}.");
        }
        if (options.CallTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(MpcSignerOptions.CallTimeout)} must be positive, not {options.CallTimeout}.");
        }
        if (options.Arithmetic is { } arithmetic && MpcArithmetic.FromName(arithmetic) is null)
        {
            failures.Add($"{Prefix}{nameof(MpcSignerOptions.Arithmetic)} must be 'default', 'openssl' or 'managed', not '{arithmetic}'.");
        }
        if (options.PrecomputedRandomness is < 0 or > 64)
        {
            failures.Add($"{Prefix}{nameof(MpcSignerOptions.PrecomputedRandomness)} must be between 0 and 64, not {options.PrecomputedRandomness}.");
        }
        foreach (string file in options.TrustedCaCertificateFiles)
        {
            if (!File.Exists(file))
            {
                failures.Add($"{Prefix}{nameof(MpcSignerOptions.TrustedCaCertificateFiles)}: {file} does not exist.");
            }
        }
        if (options.KeyStoreDirectory is { } directory && (directory.Length == 0 || File.Exists(directory)))
        {
            failures.Add($"{Prefix}{nameof(MpcSignerOptions.KeyStoreDirectory)} must name a directory, not '{directory}'.");
        }
        if (options.DeviceProfilePath is not null && string.IsNullOrEmpty(options.DeviceProfilePassphrase))
        {
            failures.Add($"{Prefix}{nameof(MpcSignerOptions.DeviceProfilePassphrase)} is required with {nameof(MpcSignerOptions.DeviceProfilePath)} (a device profile is always sealed).");
        }
        if (options.DeviceId is { } deviceId)
        {
            try
            {
                CustodyFields.RequireDeviceId(deviceId, nameof(options.DeviceId));
            }
            catch (ArgumentException e)
            {
                failures.Add($"{Prefix}{nameof(MpcSignerOptions.DeviceId)}: {FirstSentence(e.Message)}");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // ArgumentException appends " (Parameter 'x')", which names our parameter, not the setting.
    private static string FirstSentence(string message)
    {
        int parameter = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return parameter < 0 ? message : message[..parameter];
    }
}
