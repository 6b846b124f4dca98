//! The API page.
use leptos::prelude::*;

use super::AppError;
use crate::model::ApiReference;

/// The API description as the API page shows it; for anyone, like the document itself.
#[server(name = GetApiReference)]
pub async fn api_reference() -> Result<ApiReference, AppError> {
    Ok(crate::openapi::reference(&super::ssr::state()?.api_document))
}
