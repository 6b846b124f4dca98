//! `GET /reports/export?format=csv|json&time_range=<range>`: the signed-in user's share
//! report as a file, with every section included.
use std::collections::HashMap;

use app::model::{ReportOptions, TimeRange};
use app::orchestrator::{Error, report};
use app::state::{AppState, session_caller};
use axum::{
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

use crate::api;

/// The file formats offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    fn parse(value: Option<&str>) -> Result<Self, Error> {
        match value {
            Some("csv") => Ok(Format::Csv),
            Some("json") => Ok(Format::Json),
            Some(other) => Err(Error::bad(format!("Unknown format '{other}'; use csv or json"))),
            None => Err(Error::bad("format is required; use csv or json")),
        }
    }
}

/// Plain text with the status of an orchestrator error; internal details go to the log.
fn failure(error: Error) -> Response {
    if let Error::Internal(detail) = &error {
        tracing::error!("report export: {detail}");
    }
    (api::status_of(&error), error.public_message()).into_response()
}

pub async fn export_report(State(state): State<AppState>, session: Session, Query(params): Query<HashMap<String, String>>) -> Response {
    let db = state.orchestrator.db();
    let caller = match session_caller(&session, db).await {
        Ok(Some(caller)) => caller,
        Ok(None) => {
            return (StatusCode::UNAUTHORIZED, "Please sign in to export reports: /login?next=/reports\n").into_response();
        }
        Err(err) => return failure(err),
    };
    let time_range = match params.get("time_range").map(String::as_str) {
        None | Some("") => TimeRange::Days30,
        Some(value) => match TimeRange::parse(value) {
            Ok(range) => range,
            Err(err) => return failure(err),
        },
    };
    let format = match Format::parse(params.get("format").map(String::as_str)) {
        Ok(format) => format,
        Err(err) => return failure(err),
    };
    let options = ReportOptions {
        time_range,
        include_usage_stats: true,
        include_user_metrics: true,
        include_trend_analysis: true,
        report_format: format.name().into(),
    };
    let report = match report::generate_share_report(db, &caller, &options).await {
        Ok(report) => report,
        Err(err) => return failure(err),
    };
    let (content_type, body) = match format {
        Format::Csv => ("text/csv; charset=utf-8", report::to_csv(&report)),
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => ("application/json", json),
            Err(err) => return failure(Error::Internal(format!("serialising a report: {err}"))),
        },
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"pipeshare-report-{}.{}\"", time_range.as_str(), format.name())),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use app::orchestrator::{Orchestrator, accounts, db};
    use app::state::SESSION_USER;
    use leptos::config::LeptosOptions;

    use super::*;
    use crate::sessions::DbSessionStore;

    async fn call(state: &AppState, session: Session, query: &[(&str, &str)]) -> (StatusCode, axum::http::HeaderMap, String) {
        let params = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let response = export_report(State(state.clone()), session, Query(params)).await;
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn exports_the_callers_report_as_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
        let alice = accounts::create_user(&db, "alice", "correct horse battery", false).await.unwrap();
        let store = Arc::new(DbSessionStore::new(db.clone()));
        let state = AppState {
            leptos_options: LeptosOptions::builder().output_name("pipeshare").build(),
            orchestrator: Orchestrator::new(db, "http://localhost"),
        };
        let anonymous = Session::new(None, store.clone(), None);
        let (status, _, body) = call(&state, anonymous, &[("format", "csv")]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.contains("/login"), "{body}");

        let signed_in = || {
            let session = Session::new(None, store.clone(), None);
            let copy = session.clone();
            async move {
                copy.insert(SESSION_USER, alice.id).await.unwrap();
                session
            }
        };
        let (status, _, body) = call(&state, signed_in().await, &[("format", "csv"), ("time_range", "2_days")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("Unknown time_range '2_days'"), "{body}");
        let (status, _, _) = call(&state, signed_in().await, &[("format", "xml"), ("time_range", "7_days")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let (status, headers, body) = call(&state, signed_in().await, &[("format", "csv"), ("time_range", "7_days")]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        assert_eq!(headers[header::CONTENT_DISPOSITION], "attachment; filename=\"pipeshare-report-7_days.csv\"");
        assert!(body.starts_with("metric,value\n"), "{body}");
        let daily = body.split_once("\n\ndate,shares,downloads\n").expect("the daily section").1;
        assert!((7..=8).contains(&daily.lines().count()), "a line per day: {body}");

        let (status, headers, body) = call(&state, signed_in().await, &[("format", "json"), ("time_range", "all_time")]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(headers[header::CONTENT_DISPOSITION], "attachment; filename=\"pipeshare-report-all_time.json\"");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["time_range"], "all_time");
        assert_eq!(json["scope"], "own_pipes");
        assert!(json["usage_stats"].is_object() && json["trend_analysis"].is_object() && json["user_metrics"].is_object(), "{body}");
    }

    #[test]
    fn only_csv_and_json_are_offered() {
        assert_eq!(Format::parse(Some("csv")).unwrap(), Format::Csv);
        assert_eq!(Format::parse(Some("json")).unwrap(), Format::Json);
        assert!(matches!(Format::parse(Some("xml")), Err(Error::BadRequest(_))));
        assert!(matches!(Format::parse(None), Err(Error::BadRequest(_))));
    }
}
