using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mpc.Crypto.Curves;

namespace Mpc.Client.Diagnostics;

/// <summary>
/// The SDK's activity source and log messages. Only identifiers, curve, outcome, status codes and timings are
/// written: the values logged are chosen here, never whole messages or exceptions (whose text may quote input).
/// </summary>
internal static partial class ClientTelemetry
{
    // A process-wide source is how ActivitySource is meant to be used: listeners subscribe by name, and it holds no state of ours.
    internal static readonly ActivitySource Source = new(MpcClientDiagnostics.ActivitySourceName, typeof(ClientTelemetry).Assembly.GetName().Version?.ToString());

    public static Activity? StartOperation(string operation, CurveKind? curve, string? keyId)
    {
        Activity? activity = Source.StartActivity("mpc." + operation, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag(MpcClientDiagnostics.OperationTag, operation);
            if (curve is { } kind)
            {
                activity.SetTag(MpcClientDiagnostics.CurveTag, CurveName(kind));
            }
            if (keyId is not null)
            {
                activity.SetTag(MpcClientDiagnostics.KeyIdTag, keyId);
            }
        }
        return activity;
    }

    public static void EndOperation(Activity? activity, ILogger logger, string operation, CurveKind? curve, string? keyId, bool succeeded, TimeSpan elapsed)
    {
        if (activity is not null)
        {
            activity.SetTag(MpcClientDiagnostics.KeyIdTag, keyId);
            activity.SetTag(MpcClientDiagnostics.OutcomeTag, succeeded ? "ok" : "failed");
            activity.SetStatus(succeeded ? ActivityStatusCode.Ok : ActivityStatusCode.Error);
            activity.Dispose();
        }
        string curveName = curve is { } kind ? CurveName(kind) : "-";
        if (succeeded)
        {
            LogOperationSucceeded(logger, operation, keyId ?? "-", curveName, elapsed.TotalMilliseconds);
        }
        else
        {
            LogOperationFailed(logger, operation, keyId ?? "-", curveName, elapsed.TotalMilliseconds);
        }
    }

    public static void ServerCallEnded(ILogger logger, string method, string? keyId, StatusCode status, TimeSpan elapsed) =>
        LogServerCall(logger, method, keyId ?? "-", status, elapsed.TotalMilliseconds);

    public static string CurveName(CurveKind curve) => curve switch
    {
        CurveKind.Secp256k1 => "secp256k1",
        CurveKind.P256 => "P-256",
        CurveKind.P384 => "P-384",
        _ => curve.ToString(),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "{Operation} of key {KeyId} ({Curve}) succeeded in {ElapsedMs:0.0} ms")]
    private static partial void LogOperationSucceeded(ILogger logger, string operation, string keyId, string curve, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Operation} of key {KeyId} ({Curve}) failed after {ElapsedMs:0.0} ms")]
    private static partial void LogOperationFailed(ILogger logger, string operation, string keyId, string curve, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} for key {KeyId}: {Status} in {ElapsedMs:0.0} ms")]
    private static partial void LogServerCall(ILogger logger, string method, string keyId, StatusCode status, double elapsedMs);
}
