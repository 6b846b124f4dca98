//! `GET /reports/export?format=csv|json&time_range=<range>`: the caller's share report as a
//! file, with every section included; for a browser session or a bearer token.
use app::auth::Auth;
use app::model::{ExportFormat as Format, ReportOptions, TimeRange};
use app::orchestrator::{Error, Orchestrator, input::parse, report};
use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` or `json` (required).
    format: Option<String>,
    /// `7_days`, `30_days` (the default), `90_days`, `1_year` or `all_time`.
    time_range: Option<String>,
}

/// The file format asked for; there is no default.
fn format_of(value: Option<&str>) -> Result<Format, Error> {
    parse(value.ok_or_else(|| Error::bad("format is required; use csv or json"))?)
}

/// The caller's share report as a file, every section included.
#[utoipa::path(get, path = "/reports/export", tag = "files", params(ExportQuery),
    responses((status = 200, description = "The report as CSV or JSON", content((String = "text/csv"), (app::model::ShareReport = "application/json")))),
    security(("bearer" = []), ("session" = [])))]
pub async fn export_report(
    State(orchestrator): State<Orchestrator>,
    auth: Auth,
    Query(query): Query<ExportQuery>,
) -> Result<Response, Error> {
    let caller = auth.require()?;
    let time_range = match query.time_range.as_deref() {
        None | Some("") => TimeRange::Days30,
        Some(value) => parse(value)?,
    };
    let format = format_of(query.format.as_deref())?;
    let options = ReportOptions {
        time_range,
        include_usage_stats: true,
        include_user_metrics: true,
        include_trend_analysis: true,
        report_format: Some(app::model::ReportFormat::Comprehensive),
    };
    let report = orchestrator.generate_share_report(&caller, &options).await?;
    let (content_type, body) = match format {
        Format::Csv => ("text/csv; charset=utf-8", report::to_csv(&report)),
        Format::Json => {
            let json = serde_json::to_string_pretty(&report).map_err(|err| Error::Internal(format!("serialising a report: {err}")))?;
            ("application/json", json)
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"pipeshare-report-{time_range}.{format}\"")),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use app::auth::{SESSION_USER, session_caller};
    use app::orchestrator::{accounts, db};
    use axum::http::StatusCode;
    use tower_sessions::Session;

    use super::*;
    use crate::sessions::DbSessionStore;

    async fn call(orchestrator: &Orchestrator, session: Session, query: &[(&str, &str)]) -> (StatusCode, axum::http::HeaderMap, String) {
        let value = |key: &str| query.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string());
        let query = ExportQuery { format: value("format"), time_range: value("time_range") };
        let caller = session_caller(&session, orchestrator.db()).await.unwrap();
        let response = export_report(State(orchestrator.clone()), Auth(caller), Query(query)).await.into_response();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn exports_the_callers_report_as_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
        let alice = accounts::create_user(&db, &"alice".parse().unwrap(), "correct horse battery", false).await.unwrap();
        let store = Arc::new(DbSessionStore::new(db.clone()));
        let state = Orchestrator::new(db, "http://localhost");
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
        assert_eq!(format_of(Some("csv")).unwrap(), Format::Csv);
        assert_eq!(format_of(Some("json")).unwrap(), Format::Json);
        assert!(matches!(format_of(Some("xml")), Err(Error::BadRequest(_))));
        assert!(matches!(format_of(None), Err(Error::BadRequest(_))));
    }
}
