//! What an operator watches, kept in memory and served at `/metrics` in the Prometheus text
//! format: requests by route, method and status with latency histograms, the database pool,
//! throttled attempts by kind, the webhook and email queues with their attempts, source scans
//! with their durations and outcomes, and each source's state. Labels are bounded: routes are
//! the router's patterns (`/pipes/{name}`), never the addresses asked for; sources are the
//! few an admin adds.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, OnceLock};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    /// Observations at or under each bound (the last one counts everything).
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (count, bound) in self.counts.iter_mut().zip(BUCKETS.iter().copied().chain([f64::INFINITY])) {
            if seconds <= bound {
                *count += 1;
            }
        }
        self.sum += seconds;
    }

    /// Its lines in the text format; `labels` are the series' own, already escaped.
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter()) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
        }
        let total = self.counts[BUCKETS.len()];
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {total}");
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {total}");
    }
}

/// How an anonymous visitor's pipe page was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageOutcome {
    /// From the cache, the catalogue's revision unchanged since the page was checked.
    Kept,
    /// From the cache, after reading the page's details again and finding them unchanged.
    Confirmed,
    /// Rendered (and kept).
    Rendered,
}

impl PageOutcome {
    fn as_str(self) -> &'static str {
        match self {
            PageOutcome::Kept => "kept",
            PageOutcome::Confirmed => "confirmed",
            PageOutcome::Rendered => "rendered",
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
    throttled: Mutex<BTreeMap<&'static str, u64>>,
    /// Sending attempts by queue (`webhook`, `email`) and outcome (`ok`, `failed`).
    attempts: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Source scans of this process by kind (`scan`: a source's first, `rescan`) and outcome.
    scans: Mutex<BTreeMap<(&'static str, &'static str), Histogram>>,
    /// Anonymous visitors' pipe pages by outcome (see [`PageOutcome`]).
    pages: Mutex<BTreeMap<&'static str, u64>>,
    /// Listings and downloads by kind and whether they were kept (see `orchestrator::kept`).
    answers: Mutex<BTreeMap<(&'static str, bool), u64>>,
}

/// A source as the database holds it when scraped.
pub struct SourceStats {
    pub name: String,
    pub kind: String,
    pub state: String,
    pub pipes: i64,
    pub consecutive_failures: i32,
    /// Seconds since the epoch.
    pub last_success: Option<i64>,
}

/// The delivery queues as the database holds them when scraped: messages by queue
/// (`webhook`, `email`) and status (`pending`, `delivered`, `failed`).
#[derive(Default)]
pub struct QueueStats {
    pub messages: Vec<(&'static str, String, u64)>,
}

/// The process's one registry.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

/// The database pool as `/metrics` shows it.
pub struct PoolStats {
    pub in_use: u64,
    pub idle: u64,
    pub max: u64,
}

impl Metrics {
    /// One answered request: its route pattern, method, status and time taken.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry((route.to_string(), method.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut durations) = self.durations.lock() {
            durations.entry(route.to_string()).or_default().observe(seconds);
        }
    }

    /// One finished scan of a source: a first scan or a rescan, whether it succeeded, and how
    /// long it took.
    pub fn observe_scan(&self, rescan: bool, succeeded: bool, seconds: f64) {
        if let Ok(mut scans) = self.scans.lock() {
            let key = (if rescan { "rescan" } else { "scan" }, if succeeded { "ok" } else { "failed" });
            scans.entry(key).or_default().observe(seconds);
        }
    }

    /// One attempt refused by the throttle (`sign-in-user`, `sign-up-address`, ...).
    pub fn count_throttled(&self, kind: &'static str) {
        if let Ok(mut throttled) = self.throttled.lock() {
            *throttled.entry(kind).or_default() += 1;
        }
    }

    /// One attempt to send a webhook delivery or an email.
    pub fn count_attempt(&self, queue: &'static str, succeeded: bool) {
        if let Ok(mut attempts) = self.attempts.lock() {
            *attempts.entry((queue, if succeeded { "ok" } else { "failed" })).or_default() += 1;
        }
    }

    /// One anonymous visitor's pipe page.
    pub fn count_page(&self, outcome: PageOutcome) {
        if let Ok(mut pages) = self.pages.lock() {
            *pages.entry(outcome.as_str()).or_default() += 1;
        }
    }

    /// One answer of `kind` (`list`, `download`), sent as kept or read.
    pub fn count_answer(&self, kind: &'static str, kept: bool) {
        if let Ok(mut answers) = self.answers.lock() {
            *answers.entry((kind, kept)).or_default() += 1;
        }
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self, pool: &PoolStats, queues: &QueueStats, sources: &[SourceStats]) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP pipeshare_http_requests_total Requests answered, by route pattern, method and status.");
        let _ = writeln!(out, "# TYPE pipeshare_http_requests_total counter");
        if let Ok(requests) = self.requests.lock() {
            for ((route, method, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "pipeshare_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {count}",
                    label(route),
                    label(method)
                );
            }
        }
        let _ = writeln!(out, "# HELP pipeshare_http_request_duration_seconds Time to answer, by route pattern.");
        let _ = writeln!(out, "# TYPE pipeshare_http_request_duration_seconds histogram");
        if let Ok(durations) = self.durations.lock() {
            for (route, histogram) in durations.iter() {
                histogram.render(&mut out, "pipeshare_http_request_duration_seconds", &format!("route=\"{}\"", label(route)));
            }
        }
        let _ = writeln!(out, "# HELP pipeshare_db_connections Database connections of this process's pool, by state.");
        let _ = writeln!(out, "# TYPE pipeshare_db_connections gauge");
        let _ = writeln!(out, "pipeshare_db_connections{{state=\"in_use\"}} {}", pool.in_use);
        let _ = writeln!(out, "pipeshare_db_connections{{state=\"idle\"}} {}", pool.idle);
        let _ = writeln!(out, "# HELP pipeshare_db_connections_max The most connections the pool opens.");
        let _ = writeln!(out, "# TYPE pipeshare_db_connections_max gauge");
        let _ = writeln!(out, "pipeshare_db_connections_max {}", pool.max);
        let _ = writeln!(out, "# HELP pipeshare_throttled_total Attempts refused with 429, by what was counted.");
        let _ = writeln!(out, "# TYPE pipeshare_throttled_total counter");
        if let Ok(throttled) = self.throttled.lock() {
            for (kind, count) in throttled.iter() {
                let _ = writeln!(out, "pipeshare_throttled_total{{kind=\"{kind}\"}} {count}");
            }
        }
        let _ = writeln!(out, "# HELP pipeshare_queue_messages Webhook deliveries and emails in the database, by queue and status.");
        let _ = writeln!(out, "# TYPE pipeshare_queue_messages gauge");
        for (queue, status, count) in &queues.messages {
            let _ = writeln!(out, "pipeshare_queue_messages{{queue=\"{queue}\",status=\"{}\"}} {count}", label(status));
        }
        let _ = writeln!(out, "# HELP pipeshare_send_attempts_total Attempts of this process to send, by queue and outcome.");
        let _ = writeln!(out, "# TYPE pipeshare_send_attempts_total counter");
        if let Ok(attempts) = self.attempts.lock() {
            for ((queue, outcome), count) in attempts.iter() {
                let _ = writeln!(out, "pipeshare_send_attempts_total{{queue=\"{queue}\",outcome=\"{outcome}\"}} {count}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP pipeshare_source_scan_duration_seconds Source scans of this process, by kind (scan, rescan) and outcome."
        );
        let _ = writeln!(out, "# TYPE pipeshare_source_scan_duration_seconds histogram");
        if let Ok(scans) = self.scans.lock() {
            for ((kind, outcome), histogram) in scans.iter() {
                histogram.render(&mut out, "pipeshare_source_scan_duration_seconds", &format!("kind=\"{kind}\",outcome=\"{outcome}\""));
            }
        }
        let _ = writeln!(
            out,
            "# HELP pipeshare_anonymous_pages_total Anonymous visitors' pipe pages, by outcome (kept, confirmed: from the cache)."
        );
        let _ = writeln!(out, "# TYPE pipeshare_anonymous_pages_total counter");
        if let Ok(pages) = self.pages.lock() {
            for (outcome, count) in pages.iter() {
                let _ = writeln!(out, "pipeshare_anonymous_pages_total{{outcome=\"{outcome}\"}} {count}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP pipeshare_answers_total Listings, downloads and bearer tokens, by kind and outcome (kept: from memory; read)."
        );
        let _ = writeln!(out, "# TYPE pipeshare_answers_total counter");
        if let Ok(answers) = self.answers.lock() {
            for ((kind, kept), count) in answers.iter() {
                let outcome = if *kept { "kept" } else { "read" };
                let _ = writeln!(out, "pipeshare_answers_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {count}");
            }
        }
        render_sources(&mut out, sources);
        out
    }
}

/// One number of a source, if it has one.
type SourceValue = fn(&SourceStats) -> Option<i64>;

/// Each source's state (1 for the one it is in), pipes, failures in a row and last success.
fn render_sources(out: &mut String, sources: &[SourceStats]) {
    let _ = writeln!(out, "# HELP pipeshare_source_state A source's health: 1 for its state, 0 for the others.");
    let _ = writeln!(out, "# TYPE pipeshare_source_state gauge");
    for source in sources {
        for state in crate::model::SourceState::ALL {
            let on = u8::from(state.as_str() == source.state);
            let _ = writeln!(
                out,
                "pipeshare_source_state{{source=\"{}\",kind=\"{}\",state=\"{state}\"}} {on}",
                label(&source.name),
                label(&source.kind)
            );
        }
    }
    let gauges: [(&str, &str, SourceValue); 3] = [
        ("pipeshare_source_pipes", "Pipes a source holds (not gone).", |s| Some(s.pipes)),
        ("pipeshare_source_consecutive_failures", "Failed scans of a source in a row.", |s| Some(i64::from(s.consecutive_failures))),
        ("pipeshare_source_last_success_timestamp_seconds", "When a source was last scanned successfully.", |s| s.last_success),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for source in sources {
            if let Some(value) = value(source) {
                let _ = writeln!(out, "{name}{{source=\"{}\"}} {value}", label(&source.name));
            }
        }
    }
}

/// A label value with `\`, `"` and line breaks escaped, as the format asks.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_land_in_counters_and_buckets() {
        let metrics = Metrics::default();
        metrics.observe_request("/pipes/{name}", "GET", 200, 0.003);
        metrics.observe_request("/pipes/{name}", "GET", 200, 0.2);
        metrics.observe_request("/pipes/{name}", "GET", 404, 20.0);
        metrics.count_throttled("sign-in-user");
        metrics.count_attempt("webhook", false);
        let queues = QueueStats { messages: vec![("webhook", "pending".into(), 3)] };
        metrics.observe_scan(true, false, 0.02);
        let sources = [SourceStats {
            name: "team".into(),
            kind: "folder".into(),
            state: "offline".into(),
            pipes: 4,
            consecutive_failures: 2,
            last_success: None,
        }];
        let text = metrics.render(&PoolStats { in_use: 1, idle: 2, max: 10 }, &queues, &sources);
        assert!(
            text.contains("pipeshare_source_scan_duration_seconds_bucket{kind=\"rescan\",outcome=\"failed\",le=\"0.025\"} 1"),
            "{text}"
        );
        assert!(text.contains("pipeshare_source_state{source=\"team\",kind=\"folder\",state=\"offline\"} 1"), "{text}");
        assert!(text.contains("pipeshare_source_state{source=\"team\",kind=\"folder\",state=\"healthy\"} 0"), "{text}");
        assert!(
            text.contains("pipeshare_source_pipes{source=\"team\"} 4")
                && text.contains("pipeshare_source_consecutive_failures{source=\"team\"} 2")
        );
        assert!(!text.contains("pipeshare_source_last_success_timestamp_seconds{"), "never succeeded: no value");
        assert!(text.contains("pipeshare_queue_messages{queue=\"webhook\",status=\"pending\"} 3"), "{text}");
        assert!(text.contains("pipeshare_send_attempts_total{queue=\"webhook\",outcome=\"failed\"} 1"), "{text}");
        assert!(text.contains("pipeshare_http_requests_total{route=\"/pipes/{name}\",method=\"GET\",status=\"200\"} 2"), "{text}");
        assert!(text.contains("pipeshare_http_request_duration_seconds_bucket{route=\"/pipes/{name}\",le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("pipeshare_http_request_duration_seconds_bucket{route=\"/pipes/{name}\",le=\"0.25\"} 2"), "{text}");
        assert!(text.contains("pipeshare_http_request_duration_seconds_bucket{route=\"/pipes/{name}\",le=\"+Inf\"} 3"), "{text}");
        assert!(
            text.contains("pipeshare_db_connections{state=\"in_use\"} 1")
                && text.contains("pipeshare_throttled_total{kind=\"sign-in-user\"} 1")
        );
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
