//! What every request handler and server function reaches for: the orchestrator, the Leptos
//! options, and who is signed in.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::{ConnectionTrait, EntityTrait};
use tower_sessions::Session;

use crate::orchestrator::{Caller, Orchestrator, entities::users};

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub orchestrator: Orchestrator,
    pub login_throttle: LoginThrottle,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Orchestrator {
    fn from_ref(state: &AppState) -> Self {
        state.orchestrator.clone()
    }
}

/// The session key holding the signed-in user's id.
pub const SESSION_USER: &str = "user_id";

/// The signed-in user of a browser session, if any.
pub async fn session_caller(session: &Session, db: &impl ConnectionTrait) -> Result<Option<Caller>, crate::orchestrator::Error> {
    let Some(user_id) = session.get::<i32>(SESSION_USER).await.ok().flatten() else {
        return Ok(None);
    };
    Ok(users::Entity::find_by_id(user_id).one(db).await?.as_ref().map(Caller::from))
}

/// Slows down repeated failed sign-ins for a user name: each failure in a row doubles the
/// wait before the next answer, up to `MAX_DELAY`. Kept per server instance, in memory.
#[derive(Clone, Default)]
pub struct LoginThrottle {
    failures: Arc<Mutex<HashMap<String, (u32, Instant)>>>,
}

const MAX_DELAY: Duration = Duration::from_secs(8);
/// Failures older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

impl LoginThrottle {
    /// How long to wait before checking a password for this user name.
    pub fn delay(&self, username: &str) -> Duration {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match failures.get(&username.to_lowercase()) {
            Some((count, last)) if last.elapsed() < FORGET_AFTER && *count > 1 => {
                (Duration::from_millis(250) * 2u32.saturating_pow(count - 2)).min(MAX_DELAY)
            }
            _ => Duration::ZERO,
        }
    }

    pub fn failed(&self, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.retain(|_, (_, last)| last.elapsed() < FORGET_AFTER);
        let entry = failures.entry(username.to_lowercase()).or_insert((0, Instant::now()));
        entry.0 += 1;
        entry.1 = Instant::now();
    }

    pub fn succeeded(&self, username: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&username.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_in_a_row_slow_down() {
        let throttle = LoginThrottle::default();
        assert_eq!(throttle.delay("Alice"), Duration::ZERO);
        throttle.failed("alice");
        assert_eq!(throttle.delay("ALICE"), Duration::ZERO, "one typo costs nothing");
        throttle.failed("alice");
        assert_eq!(throttle.delay("alice"), Duration::from_millis(250));
        throttle.failed("alice");
        assert_eq!(throttle.delay("alice"), Duration::from_millis(500));
        for _ in 0..20 {
            throttle.failed("alice");
        }
        assert_eq!(throttle.delay("alice"), MAX_DELAY);
        throttle.succeeded("alice");
        assert_eq!(throttle.delay("alice"), Duration::ZERO);
    }
}
