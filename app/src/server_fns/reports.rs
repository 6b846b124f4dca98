//! The reports dashboard.
use leptos::prelude::*;

use super::AppError;
#[cfg(feature = "ssr")]
use super::ssr::{caller, orchestrator};
use crate::model::ShareReport;

/// The caller's share report over `time_range` (as the page's address names it; checked
/// here), with every section.
/// Its server function type is `GetShareReport`: `ShareReport` is the report itself.
#[server(name = GetShareReport)]
pub async fn share_report(time_range: String) -> Result<ShareReport, AppError> {
    let options = crate::model::ReportOptions {
        time_range: crate::orchestrator::input::parse(&time_range)?,
        include_usage_stats: true,
        include_user_metrics: true,
        include_trend_analysis: true,
        report_format: Some(crate::model::ReportFormat::Comprehensive),
    };
    Ok(orchestrator()?.generate_share_report(&caller().await?, &options).await?)
}
