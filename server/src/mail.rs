//! The mail worker: sends queued notification emails over SMTP (`PIPESHARE_SMTP_URL`, e.g.
//! `smtp://relay.example.com:25`, `smtps://user:pass@smtp.example.com` or
//! `smtp://host:587?tls=required`), from `PIPESHARE_SMTP_FROM`. It also queues the daily
//! reminders. Runs in every `serve`; a lease gives each message to one worker.
use std::time::Duration;

use app::orchestrator::notify::{self, Outgoing};
use chrono::TimeDelta;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::Mailbox};
use sea_orm::DatabaseConnection;

/// How long a worker holds a message it is sending.
const LEASE: TimeDelta = TimeDelta::seconds(120);
const BATCH: u64 = 16;

/// Starts the worker when the operator configured SMTP; says why not otherwise.
pub fn spawn(db: DatabaseConnection, base_url: String, poll: Duration, retry_base: TimeDelta) {
    let Ok(url) = std::env::var("PIPESHARE_SMTP_URL") else { return };
    if url.trim().is_empty() {
        return;
    }
    let from = std::env::var("PIPESHARE_SMTP_FROM").unwrap_or_else(|_| "pipeshare@localhost".into());
    let from: Mailbox = match from.parse() {
        Ok(from) => from,
        Err(err) => {
            tracing::error!("PIPESHARE_SMTP_FROM is not an address ({err}); no emails are sent");
            return;
        }
    };
    let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim()) {
        Ok(builder) => builder.timeout(Some(Duration::from_secs(15))).build(),
        Err(err) => {
            // The URL may hold a password: only the error's kind is logged.
            tracing::error!("PIPESHARE_SMTP_URL is not usable ({err}); no emails are sent");
            return;
        }
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            // Reminders are looked for every 60 looks; each is queued once a day at most.
            if ticks.is_multiple_of(60)
                && let Err(err) = notify::queue_reminders(&db, &base_url).await
            {
                tracing::warn!("queueing reminders: {err}");
            }
            ticks += 1;
            let due = match notify::claim_due(&db, BATCH, LEASE).await {
                Ok(due) => due,
                Err(err) => {
                    tracing::warn!("taking emails to send: {err}");
                    continue;
                }
            };
            for outgoing in due {
                let outcome = send(&transport, &from, &outgoing).await;
                app::metrics::metrics().count_attempt("email", outcome.is_ok());
                if let Err(err) = &outcome {
                    tracing::warn!("email {} not sent: {err}", outgoing.notification.id);
                }
                if let Err(err) = notify::record(&db, &outgoing.notification, outcome, retry_base).await {
                    tracing::warn!("recording email {}: {err}", outgoing.notification.id);
                }
            }
        }
    });
}

async fn send(transport: &AsyncSmtpTransport<Tokio1Executor>, from: &Mailbox, outgoing: &Outgoing) -> Result<(), String> {
    let to: Mailbox = outgoing.to.parse().map_err(|err| format!("the address is not usable: {err}"))?;
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(outgoing.notification.subject.clone())
        .body(outgoing.notification.body.clone())
        .map_err(|err| format!("building the message: {err}"))?;
    transport.send(message).await.map(|_| ()).map_err(|err| format!("the SMTP server refused or could not be reached: {err}"))
}
