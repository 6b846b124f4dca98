//! Charts drawn as SVG on the server.
//!
//! The geometry is worked out in plain Rust (`group`, `layout`) so it can be tested without a
//! browser; the component only turns it into SVG elements.
use chrono::{Datelike, NaiveDate};
use leptos::prelude::*;

use crate::model::DayCount;

/// The drawing's size in SVG user units; the SVG itself scales to the width of its box.
pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 240.0;
/// At most this many bars per series: longer ranges are drawn a few days per bar.
pub const MAX_BARS: usize = 92;
/// How many dates are written under the x axis, at most.
const DATE_LABELS: usize = 4;

/// The plot area inside the axes, in SVG units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plot {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

impl Plot {
    /// Room on the left for the value labels, below for the dates.
    pub const DEFAULT: Plot = Plot { left: 44.0, top: 12.0, width: WIDTH - 44.0 - 8.0, height: HEIGHT - 12.0 - 30.0 };

    pub fn right(&self) -> f64 {
        self.left + self.width
    }

    /// The baseline: where a zero bar stands.
    pub fn bottom(&self) -> f64 {
        self.top + self.height
    }
}

/// One bar's worth of days: a single day, or several when the range is long.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub shares: u64,
    pub downloads: u64,
}

impl Span {
    fn label(&self) -> String {
        if self.first == self.last {
            self.first.format("%Y-%m-%d").to_string()
        } else {
            format!("{} to {}", self.first.format("%Y-%m-%d"), self.last.format("%Y-%m-%d"))
        }
    }
}

/// Consecutive days summed into at most `max_bars` spans of equal length (the last may be
/// shorter); `max_bars` or fewer days give one span per day.
pub fn group(daily: &[DayCount], max_bars: usize) -> Vec<Span> {
    let per_bar = daily.len().div_ceil(max_bars.max(1)).max(1);
    daily
        .chunks(per_bar)
        .map(|days| Span {
            first: days[0].date,
            last: days[days.len() - 1].date,
            shares: days.iter().map(|d| d.shares).sum(),
            downloads: days.iter().map(|d| d.downloads).sum(),
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub value: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DateLabel {
    /// Where the text is anchored, in SVG units.
    pub x: f64,
    /// `start`, `middle` or `end`, so the outer labels stay inside the drawing.
    pub anchor: &'static str,
    pub text: String,
}

/// A value on the y axis and the height it is drawn at.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    pub y: f64,
    pub value: u64,
}

/// Everything the chart draws, in SVG units.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendLayout {
    /// One bar per span, in date order; the left bar of each pair.
    pub downloads: Vec<Bar>,
    /// One bar per span, in date order; the right bar of each pair.
    pub shares: Vec<Bar>,
    /// The top of the scale: the largest count of either series in one span.
    pub max: u64,
    /// 0 at the baseline, `max` at the top, and a middle value when there is one.
    pub ticks: Vec<Tick>,
    pub date_labels: Vec<DateLabel>,
}

/// Places a pair of bars (downloads, shares) per span on one shared scale: the largest
/// count reaches the top of the plot, zero stays on the baseline.
pub fn layout(spans: &[Span], plot: Plot) -> TrendLayout {
    let max = spans.iter().flat_map(|s| [s.downloads, s.shares]).max().unwrap_or(0);
    let height_of = |value: u64| if max == 0 { 0.0 } else { plot.height * value as f64 / max as f64 };
    let slot = if spans.is_empty() { 0.0 } else { plot.width / spans.len() as f64 };
    // A tenth of the slot is left empty on each side, so neighbouring pairs stay apart.
    let bar_width = slot * 0.4;
    let bar = |index: usize, offset: f64, value: u64| {
        let height = height_of(value);
        Bar { x: plot.left + slot * index as f64 + slot * 0.1 + offset, y: plot.bottom() - height, width: bar_width, height, value }
    };
    let downloads = spans.iter().enumerate().map(|(i, s)| bar(i, 0.0, s.downloads)).collect();
    let shares = spans.iter().enumerate().map(|(i, s)| bar(i, bar_width, s.shares)).collect();

    let mut ticks = vec![Tick { y: plot.bottom(), value: 0 }];
    if max >= 2 {
        let middle = max / 2;
        ticks.push(Tick { y: plot.bottom() - height_of(middle), value: middle });
    }
    if max >= 1 {
        ticks.push(Tick { y: plot.top, value: max });
    }

    let with_year = spans.first().zip(spans.last()).is_some_and(|(a, b)| a.first.year() != b.last.year());
    let format = if with_year { "%b %-d, %Y" } else { "%b %-d" };
    let mut picked: Vec<usize> = match spans.len() {
        0 => vec![],
        n if n <= DATE_LABELS => (0..n).collect(),
        n => (0..DATE_LABELS).map(|j| j * (n - 1) / (DATE_LABELS - 1)).collect(),
    };
    picked.dedup();
    let last = picked.len().saturating_sub(1);
    let date_labels = picked
        .iter()
        .enumerate()
        .map(|(j, &i)| {
            let (x, anchor) = match j {
                _ if picked.len() == 1 => (plot.left + slot * (i as f64 + 0.5), "middle"),
                0 => (plot.left, "start"),
                j if j == last => (plot.right(), "end"),
                _ => (plot.left + slot * (i as f64 + 0.5), "middle"),
            };
            DateLabel { x, anchor, text: spans[i].first.format(format).to_string() }
        })
        .collect();

    TrendLayout { downloads, shares, max, ticks, date_labels }
}

/// The chart in words, for screen readers and the SVG's title.
pub fn describe(daily: &[DayCount]) -> String {
    let (Some(first), Some(last)) = (daily.first(), daily.last()) else {
        return "Downloads and shares per day: no days in this range".into();
    };
    let downloads: u64 = daily.iter().map(|d| d.downloads).sum();
    let shares: u64 = daily.iter().map(|d| d.shares).sum();
    let peak_downloads = daily.iter().map(|d| d.downloads).max().unwrap_or(0);
    let peak_shares = daily.iter().map(|d| d.shares).max().unwrap_or(0);
    format!(
        "Downloads and shares per day from {} to {}: {downloads} downloads and {shares} shares in all; \
         at most {peak_downloads} downloads and {peak_shares} shares on one day",
        first.date.format("%Y-%m-%d"),
        last.date.format("%Y-%m-%d"),
    )
}

/// SVG numbers, to a tenth of a unit.
fn num(value: f64) -> String {
    format!("{value:.1}")
}

/// Downloads and shares per day as paired bars, with axes, a few dates and the scale.
#[component]
pub fn TrendChart(daily: Vec<DayCount>) -> impl IntoView {
    if daily.is_empty() {
        return view! { <p class="meta chart-empty">"No days to chart in this range."</p> }.into_any();
    }
    let spans = group(&daily, MAX_BARS);
    let plot = Plot::DEFAULT;
    let chart = layout(&spans, plot);
    let summary = describe(&daily);
    let peak_downloads = daily.iter().map(|d| d.downloads).max().unwrap_or(0);
    let peak_shares = daily.iter().map(|d| d.shares).max().unwrap_or(0);
    let per_bar = daily.len().div_ceil(spans.len());
    // Each bar's tooltip names its days and count; `what` is the singular noun.
    let bars = |bars: Vec<Bar>, what: &'static str| {
        bars.into_iter()
            .zip(spans.clone())
            .map(|(bar, span)| {
                view! {
                    <rect x=num(bar.x) y=num(bar.y) width=num(bar.width) height=num(bar.height)>
                        <title>{format!("{}: {} {what}{}", span.label(), bar.value, if bar.value == 1 { "" } else { "s" })}</title>
                    </rect>
                }
            })
            .collect_view()
    };
    view! {
        <figure class="trend-chart">
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-label=summary
                preserveAspectRatio="xMidYMid meet"
            >
                <title>{summary.clone()}</title>
                <g class="grid">
                    {chart.ticks.iter().map(|t| view! {
                        <line x1=num(plot.left) x2=num(plot.right()) y1=num(t.y) y2=num(t.y) />
                    }).collect_view()}
                </g>
                <g class="series downloads">{bars(chart.downloads, "download")}</g>
                <g class="series shares">{bars(chart.shares, "share")}</g>
                <g class="axis">
                    <line x1=num(plot.left) x2=num(plot.left) y1=num(plot.top) y2=num(plot.bottom()) />
                    <line x1=num(plot.left) x2=num(plot.right()) y1=num(plot.bottom()) y2=num(plot.bottom()) />
                </g>
                <g class="labels values">
                    {chart.ticks.iter().map(|t| view! {
                        <text x=num(plot.left - 6.0) y=num(t.y) text-anchor="end" dominant-baseline="middle">{t.value}</text>
                    }).collect_view()}
                </g>
                <g class="labels dates">
                    {chart.date_labels.into_iter().map(|l| view! {
                        <text x=num(l.x) y=num(plot.bottom() + 18.0) text-anchor=l.anchor>{l.text}</text>
                    }).collect_view()}
                </g>
            </svg>
            <figcaption>
                <ul class="chart-legend">
                    <li><span class="swatch downloads" aria-hidden="true"></span>"Downloads (peak " <span class="peak-downloads">{peak_downloads}</span> " a day)"</li>
                    <li><span class="swatch shares" aria-hidden="true"></span>"Shares (peak " <span class="peak-shares">{peak_shares}</span> " a day)"</li>
                    {(per_bar > 1).then(|| view! { <li class="meta">{format!("Each bar covers {per_bar} days.")}</li> })}
                </ul>
            </figcaption>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(counts: &[(u64, u64)]) -> Vec<DayCount> {
        let start = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        start.iter_days().zip(counts).map(|(date, &(downloads, shares))| DayCount { date, shares, downloads }).collect()
    }

    const EPS: f64 = 1e-9;

    #[test]
    fn one_pair_of_bars_per_day() {
        let daily = days(&[(1, 0), (0, 0), (4, 2), (2, 1), (0, 3)]);
        let spans = group(&daily, MAX_BARS);
        assert_eq!(spans.len(), 5);
        let chart = layout(&spans, Plot::DEFAULT);
        assert_eq!(chart.downloads.len(), 5);
        assert_eq!(chart.shares.len(), 5);
        assert_eq!(chart.downloads.iter().map(|b| b.value).collect::<Vec<_>>(), [1, 0, 4, 2, 0]);
        assert_eq!(chart.shares.iter().map(|b| b.value).collect::<Vec<_>>(), [0, 0, 2, 1, 3]);
    }

    #[test]
    fn the_tallest_bar_reaches_the_top_and_zero_stays_on_the_baseline() {
        let plot = Plot::DEFAULT;
        let chart = layout(&group(&days(&[(1, 0), (0, 0), (8, 2), (4, 1)]), MAX_BARS), plot);
        assert_eq!(chart.max, 8);
        let tallest = &chart.downloads[2];
        assert!((tallest.y - plot.top).abs() < EPS, "tallest bar starts at the top: {tallest:?}");
        assert!((tallest.height - plot.height).abs() < EPS);
        for bar in [&chart.downloads[1], &chart.shares[0], &chart.shares[1]] {
            assert_eq!(bar.height, 0.0, "{bar:?}");
            assert!((bar.y - plot.bottom()).abs() < EPS);
        }
        // Proportional: half the max is half the height, on the same scale for both series.
        assert!((chart.downloads[3].height - plot.height / 2.0).abs() < EPS);
        assert!((chart.shares[2].height - plot.height / 4.0).abs() < EPS);
        // Every bar stands on the baseline.
        for bar in chart.downloads.iter().chain(&chart.shares) {
            assert!((bar.y + bar.height - plot.bottom()).abs() < EPS, "{bar:?}");
        }
    }

    #[test]
    fn bars_stay_inside_the_plot_in_date_order_without_overlapping() {
        let plot = Plot::DEFAULT;
        let chart = layout(&group(&days(&[(3, 1); 30]), MAX_BARS), plot);
        let mut edges = Vec::new();
        for (d, s) in chart.downloads.iter().zip(&chart.shares) {
            assert!(d.width > 0.0);
            edges.push((d.x, d.x + d.width));
            edges.push((s.x, s.x + s.width));
        }
        assert!(edges[0].0 >= plot.left - EPS);
        assert!(edges.last().unwrap().1 <= plot.right() + EPS);
        for pair in edges.windows(2) {
            assert!(pair[0].1 <= pair[1].0 + EPS, "bars overlap: {pair:?}");
        }
    }

    #[test]
    fn a_quiet_range_draws_flat_bars() {
        let plot = Plot::DEFAULT;
        let chart = layout(&group(&days(&[(0, 0); 7]), MAX_BARS), plot);
        assert_eq!(chart.max, 0);
        assert_eq!(chart.downloads.len(), 7);
        assert!(chart.downloads.iter().chain(&chart.shares).all(|b| b.height == 0.0 && b.y == plot.bottom()));
        assert_eq!(chart.ticks, [Tick { y: plot.bottom(), value: 0 }]);
        assert_eq!(layout(&[], plot).downloads, []);
    }

    #[test]
    fn the_scale_is_labelled_from_zero_to_the_max() {
        let plot = Plot::DEFAULT;
        let chart = layout(&group(&days(&[(10, 0), (3, 2)]), MAX_BARS), plot);
        assert_eq!(chart.ticks.first(), Some(&Tick { y: plot.bottom(), value: 0 }));
        assert_eq!(chart.ticks.last(), Some(&Tick { y: plot.top, value: 10 }));
        let middle = &chart.ticks[1];
        assert_eq!(middle.value, 5);
        assert!((middle.y - (plot.top + plot.height / 2.0)).abs() < EPS);
    }

    #[test]
    fn a_few_dates_are_labelled_first_to_last() {
        let plot = Plot::DEFAULT;
        let chart = layout(&group(&days(&[(1, 1); 30]), MAX_BARS), plot);
        let texts: Vec<&str> = chart.date_labels.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["Mar 1", "Mar 10", "Mar 20", "Mar 30"]);
        assert_eq!(chart.date_labels[0].x, plot.left);
        assert_eq!(chart.date_labels[3].x, plot.right());
        let one = layout(&group(&days(&[(1, 1)]), MAX_BARS), plot);
        assert_eq!(one.date_labels.len(), 1);
        assert_eq!(one.date_labels[0].anchor, "middle");
    }

    #[test]
    fn long_ranges_are_grouped_keeping_the_totals() {
        let counts: Vec<(u64, u64)> = (0..365).map(|i| (i % 5, i % 2)).collect();
        let daily = days(&counts);
        let spans = group(&daily, MAX_BARS);
        assert!(spans.len() <= MAX_BARS);
        assert_eq!(spans.first().unwrap().first, daily[0].date);
        assert_eq!(spans.last().unwrap().last, daily[364].date);
        assert_eq!(spans.iter().map(|s| s.downloads).sum::<u64>(), daily.iter().map(|d| d.downloads).sum::<u64>());
        assert_eq!(spans.iter().map(|s| s.shares).sum::<u64>(), daily.iter().map(|d| d.shares).sum::<u64>());
        let chart = layout(&spans, Plot::DEFAULT);
        assert!(chart.date_labels[0].text.ends_with("2026"), "a range across years names the years");
        assert_eq!(chart.downloads.len(), spans.len());
    }

    #[test]
    fn renders_to_html_as_an_accessible_svg() {
        let owner = Owner::new();
        owner.set();
        let html = view! { <TrendChart daily=days(&[(2, 0), (0, 1), (5, 3)]) /> }.to_html();
        assert!(html.contains(r#"role="img""#), "{html}");
        assert!(html.contains("viewBox=\"0 0 640 240\""), "{html}");
        assert!(html.contains(r#"aria-label="Downloads and shares per day from 2026-03-01 to 2026-03-03"#), "{html}");
        assert!(html.contains("<title>Downloads and shares per day"), "{html}");
        assert_eq!(html.matches("<rect").count(), 6, "two bars a day: {html}");
        assert!(html.contains("<title>2026-03-03: 5 downloads</title>"), "{html}");
        assert!(html.contains("<title>2026-03-02: 1 share</title>"), "{html}");
        assert!(html.contains(r#"<span class="peak-downloads">5</span>"#), "{html}");
        let empty = view! { <TrendChart daily=vec![] /> }.to_html();
        assert!(empty.contains("No days to chart") && !empty.contains("<svg"), "{empty}");
    }

    #[test]
    fn the_description_gives_range_totals_and_peaks() {
        let text = describe(&days(&[(1, 0), (6, 2), (0, 1)]));
        assert!(text.contains("2026-03-01 to 2026-03-03"), "{text}");
        assert!(text.contains("7 downloads and 3 shares"), "{text}");
        assert!(text.contains("at most 6 downloads and 2 shares"), "{text}");
    }
}
