using System.Text.Json;
using System.Text.RegularExpressions;

namespace Mpc.Server.Tests.Operations;

/// <summary>
/// deploy/grafana/mpc-signer.json cannot drift from the exporter: every metric and label its PromQL names is in a
/// real scrape of a running server (after signatures, a refusal and a freeze).
/// </summary>
[Collection("scraped")]
public sealed class GrafanaDashboardTests(ScrapedServer scraped)
{
    private const string Dashboard = "deploy/grafana/mpc-signer.json";

    private static readonly HashSet<string> PromQlWords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
    };

    [Fact]
    public void Every_metric_and_label_in_the_dashboard_is_in_a_real_scrape()
    {
        IReadOnlyList<string> expressions = Expressions();
        Assert.True(expressions.Count >= 10, $"only {expressions.Count} PromQL expressions in {Dashboard}");
        foreach (string expression in expressions)
        {
            (IReadOnlySet<string> metrics, IReadOnlySet<string> labels) = Names(expression);
            Assert.True(metrics.Count > 0, $"no metric found in '{expression}'");
            foreach (string metric in metrics)
            {
                Assert.True(scraped.SeriesNames.Contains(metric), $"{Dashboard}: '{metric}' (in '{expression}') is not in a scrape of /metrics");
            }
            foreach (string label in labels)
            {
                Assert.True(Regex.IsMatch(scraped.Scrape, $@"[{{,]{Regex.Escape(label)}="""),
                    $"{Dashboard}: label '{label}' (in '{expression}') is on no series of a scrape of /metrics");
            }
        }
    }

    [Fact]
    public void The_dashboard_has_the_panels_an_operator_needs()
    {
        string all = string.Join('\n', Expressions());
        Assert.Contains("rate(mpc_signatures_total", all, StringComparison.Ordinal);
        Assert.Contains("histogram_quantile(0.5, sum by (le) (rate(mpc_sign_duration_milliseconds_bucket", all, StringComparison.Ordinal);
        Assert.Contains("histogram_quantile(0.99, sum by (le) (rate(mpc_sign_duration_milliseconds_bucket", all, StringComparison.Ordinal);
        Assert.Contains("mpc_keys_frozen_total", all, StringComparison.Ordinal);
        Assert.Contains("sum by (reason) (rate(mpc_sign_failures_total", all, StringComparison.Ordinal);
        Assert.Contains("orleans_catalog_activations", all, StringComparison.Ordinal);
    }

    [Fact]
    public void The_name_extraction_finds_metrics_and_labels_and_skips_functions()
    {
        (IReadOnlySet<string> metrics, IReadOnlySet<string> labels) = Names(
            "histogram_quantile(0.99, sum by (le, round) (rate(a_bucket{round!=\"end_to_end\", x=~\"b|c\"}[$__rate_interval]))) / on (y) b_total offset 5m");
        Assert.Equal(["a_bucket", "b_total"], metrics.Order(StringComparer.Ordinal));
        Assert.Equal(["le", "round", "x", "y"], labels.Order(StringComparer.Ordinal));
    }

    private static IReadOnlyList<string> Expressions()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, Dashboard)));
        var expressions = new List<string>();
        Collect(document.RootElement, expressions);
        return expressions;
    }

    private static void Collect(JsonElement element, List<string> expressions)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        expressions.Add(property.Value.GetString()!);
                    }
                    else
                    {
                        Collect(property.Value, expressions);
                    }
                }
                break;
            case JsonValueKind.Array:
                foreach (JsonElement item in element.EnumerateArray())
                {
                    Collect(item, expressions);
                }
                break;
        }
    }

    /// <summary>The metric names and label names one PromQL expression refers to.</summary>
    private static (IReadOnlySet<string> Metrics, IReadOnlySet<string> Labels) Names(string expression)
    {
        var labels = new HashSet<string>(StringComparer.Ordinal);
        // Label matchers: {name="v", other=~"w"}; then grouping clauses: by (a, b), on (c), ...
        string rest = Regex.Replace(expression, @"\{([^}]*)\}", match =>
        {
            foreach (Match matcher in Regex.Matches(match.Groups[1].Value, @"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*""(?:[^""\\]|\\.)*"""))
            {
                labels.Add(matcher.Groups[1].Value);
            }
            return " ";
        });
        rest = Regex.Replace(rest, @"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", match =>
        {
            foreach (string label in match.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                labels.Add(label);
            }
            return " ";
        });
        // Range selectors, durations after offset, string literals.
        rest = Regex.Replace(rest, @"\[[^\]]*\]|""(?:[^""\\]|\\.)*""|\boffset\s+\w+", " ");
        var metrics = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match token in Regex.Matches(rest, @"(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*(?!\w)(?!\s*\()"))
        {
            if (!PromQlWords.Contains(token.Value))
            {
                metrics.Add(token.Value);
            }
        }
        return (metrics, labels);
    }
}
