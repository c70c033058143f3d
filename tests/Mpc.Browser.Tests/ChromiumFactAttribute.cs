namespace Mpc.Browser.Tests;

/// <summary>A test that needs headless Chromium: reported as skipped, with the reason, where the package is missing.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        Skip = BrowserApp.SkipReason;
    }
}
