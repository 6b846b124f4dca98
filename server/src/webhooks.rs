//! The webhook delivery worker: sends the queued deliveries, signed, and records each
//! attempt; failed ones are tried again after the back-off. It runs in every `serve`; a lease
//! in the database gives each delivery to one worker at a time.
use std::time::{Duration, Instant};

use app::orchestrator::webhooks::{self, Attempt, Claimed};
use chrono::TimeDelta;
use sea_orm::DatabaseConnection;

/// A receiver has this long to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a worker holds a delivery it is sending: well past the timeout.
const LEASE: TimeDelta = TimeDelta::seconds(60);
/// Deliveries sent at once by one worker.
const BATCH: u64 = 16;

/// How often the worker looks, and the base of the retry back-off.
#[derive(Clone, Copy, Debug)]
pub struct WorkerConfig {
    pub poll: Duration,
    pub retry_base: TimeDelta,
}

impl WorkerConfig {
    /// Every second, and a minute as the base of the back-off, unless the environment sets
    /// `PIPESHARE_WEBHOOK_POLL_MS` and `PIPESHARE_WEBHOOK_RETRY_BASE_MS`.
    pub fn from_env() -> Self {
        let ms =
            |key: &str, default: u64| std::env::var(key).ok().and_then(|v| v.parse::<u64>().ok()).filter(|n| *n > 0).unwrap_or(default);
        WorkerConfig {
            poll: Duration::from_millis(ms("PIPESHARE_WEBHOOK_POLL_MS", 1000)),
            retry_base: TimeDelta::milliseconds(ms("PIPESHARE_WEBHOOK_RETRY_BASE_MS", 60_000) as i64),
        }
    }
}

/// Runs the worker until the process ends.
pub fn spawn(db: DatabaseConnection, config: WorkerConfig) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(config.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            // Every tenth look: announce ended grants, forget old deliveries.
            if ticks.is_multiple_of(10)
                && let Err(err) = webhooks::housekeeping(&db).await
            {
                tracing::warn!("webhook housekeeping: {err}");
            }
            ticks += 1;
            let claimed = match webhooks::claim_due(&db, BATCH, LEASE).await {
                Ok(claimed) => claimed,
                Err(err) => {
                    tracing::warn!("taking webhook deliveries: {err}");
                    continue;
                }
            };
            let mut sending = tokio::task::JoinSet::new();
            for delivery in claimed {
                let db = db.clone();
                sending.spawn(async move {
                    let attempt = send(&delivery).await;
                    app::metrics::metrics().count_attempt("webhook", attempt.succeeded());
                    if let Err(err) = webhooks::record_attempt(&db, &delivery.delivery, &attempt, config.retry_base).await {
                        tracing::warn!("recording webhook delivery {}: {err}", delivery.delivery.id);
                    }
                });
            }
            while sending.join_next().await.is_some() {}
        }
    });
}

/// One attempt: the receiver's status, or why it never answered.
async fn send(claimed: &Claimed) -> Attempt {
    let started = Instant::now();
    let result = post(claimed).await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    match result {
        Ok(code) => {
            let error = (!(200..300).contains(&code)).then(|| format!("the receiver answered {code}"));
            Attempt { status_code: Some(code), duration_ms, error }
        }
        Err(error) => Attempt { status_code: None, duration_ms, error: Some(error) },
    }
}

/// Posts the stored payload to the addresses the host has now (checked again, so a name
/// that comes to point at a private address is not followed), without following redirects.
async fn post(claimed: &Claimed) -> Result<u16, String> {
    let url = webhooks::check_url(&claimed.url).map_err(|err| err.public_message())?;
    let addresses = webhooks::allowed_addresses(&url).await.map_err(|err| err.public_message())?;
    let host = url.host_str().unwrap_or_default().to_string();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .resolve_to_addrs(&host, &addresses)
        .build()
        .map_err(|err| format!("preparing the request: {err}"))?;
    let body = claimed.delivery.payload.clone();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let secret = &claimed.secret;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("pipeshare-webhooks/", env!("CARGO_PKG_VERSION")))
        .header("x-pipeshare-event", claimed.delivery.event_type.as_str())
        .header("x-pipeshare-delivery", &claimed.delivery.event_id)
        .header("x-pipeshare-timestamp", &timestamp)
        .header("x-pipeshare-signature", format!("sha256={}", webhooks::sign(secret, body.as_bytes())))
        .header("x-pipeshare-timestamp-signature", format!("sha256={}", webhooks::sign(secret, format!("{timestamp}.{body}").as_bytes())))
        .body(body)
        .send()
        .await
        .map_err(|err| {
            if err.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else if err.is_connect() {
                "could not connect".to_string()
            } else {
                format!("sending failed: {err}")
            }
        })?;
    Ok(response.status().as_u16())
}
