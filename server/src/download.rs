//! `GET /pipes/<name>/download`: the pipe's manifest as a YAML file, for whoever may see it
//! (signed in or not); every download is recorded.
use app::orchestrator::{Error, download};
use app::state::{AppState, session_caller};
use axum::{
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use std::collections::HashMap;
use tower_sessions::Session;

pub async fn download_manifest(
    State(state): State<AppState>,
    session: Session,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let db = state.orchestrator.db();
    let result = async {
        let viewer = session_caller(&session, db).await?;
        download::download_pipe(db, viewer.as_ref(), &name, query.get("version").map(String::as_str)).await
    }
    .await;
    match result {
        Ok(found) => {
            let yaml = serde_norway::to_string(&found.spec).unwrap_or_default();
            let file = format!("{}-{}.yaml", found.pipe_name, found.version).replace(['"', '/', '\\'], "_");
            (
                [
                    (header::CONTENT_TYPE, "application/yaml; charset=utf-8".to_string()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
                ],
                yaml,
            )
                .into_response()
        }
        Err(err) => {
            if let Error::Internal(detail) = &err {
                tracing::error!("download {name}: {detail}");
            }
            (crate::api::status_of(&err), err.public_message()).into_response()
        }
    }
}
