//! The reports dashboard.
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{caller, orchestrator, to_server_error};
use crate::model::ShareReport;

/// The caller's share report over `time_range` (one of `TimeRange::ALL`), with every section.
/// Its server function type is `GetShareReport`: `ShareReport` is the report itself.
#[server(name = GetShareReport)]
pub async fn share_report(time_range: String) -> Result<ShareReport, ServerFnError> {
    use crate::model::{ReportOptions, TimeRange};

    let caller = caller().await?;
    let options = ReportOptions {
        time_range: TimeRange::parse(&time_range).map_err(to_server_error)?,
        include_usage_stats: true,
        include_user_metrics: true,
        include_trend_analysis: true,
        report_format: "dashboard".into(),
    };
    crate::orchestrator::report::generate_share_report(orchestrator()?.db(), &caller, &options).await.map_err(to_server_error)
}
