//! What an operator watches, kept in memory and served at `/metrics` in the Prometheus text
//! format: requests by route, method and status with latency histograms, the database pool,
//! throttled attempts by kind, and the webhook and email queues with their attempts. Labels are bounded: routes are the router's patterns
//! (`/pipes/{name}`), never the addresses asked for.
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

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
    throttled: Mutex<BTreeMap<&'static str, u64>>,
    /// Sending attempts by queue (`webhook`, `email`) and outcome (`ok`, `failed`).
    attempts: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
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
            let histogram = durations.entry(route.to_string()).or_default();
            for (count, bound) in histogram.counts.iter_mut().zip(BUCKETS.iter().copied().chain([f64::INFINITY])) {
                if seconds <= bound {
                    *count += 1;
                }
            }
            histogram.sum += seconds;
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

    /// Everything, in the Prometheus text format.
    pub fn render(&self, pool: &PoolStats, queues: &QueueStats) -> String {
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
                let route = label(route);
                for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter()) {
                    let _ = writeln!(out, "pipeshare_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}");
                }
                let total = histogram.counts[BUCKETS.len()];
                let _ = writeln!(out, "pipeshare_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {total}");
                let _ = writeln!(out, "pipeshare_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", histogram.sum);
                let _ = writeln!(out, "pipeshare_http_request_duration_seconds_count{{route=\"{route}\"}} {total}");
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
        out
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
        let text = metrics.render(&PoolStats { in_use: 1, idle: 2, max: 10 }, &queues);
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
