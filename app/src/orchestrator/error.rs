use std::fmt;

/// Every way an action can fail. Each door (JSON API, UI, CLI) maps the kind to its own
/// form: an HTTP status, a message on the page, an exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is malformed or out of range (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    /// The caller is not known (HTTP 401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may see the thing but not do this to it (HTTP 403).
    #[error("{0}")]
    Forbidden(String),
    /// No such thing, or the caller may not see it (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The address exists, but not for this method (HTTP 405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The action clashes with stored state: duplicates, quota, wrong state (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts: try again after this many seconds (HTTP 429 with `Retry-After`).
    #[error("{0}")]
    TooManyRequests(String, u64),
    /// It was here and is no longer: a pipe its source stopped holding (HTTP 410).
    #[error("{0}")]
    Gone(String),
    /// The input is larger than the instance accepts (HTTP 413).
    #[error("{0}")]
    TooLarge(String),
    /// Something broke on our side. The text is for the log, never for the caller.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        Error::Internal(format!("database: {err}"))
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(err: sea_orm::TransactionError<Error>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner,
        }
    }
}

impl Error {
    pub fn bad(msg: impl fmt::Display) -> Self {
        Error::BadRequest(msg.to_string())
    }

    /// The seed's text for a missing or empty `pipe_name`.
    pub fn pipe_name_required() -> Self {
        Error::BadRequest("Pipe name is required for sharing operation".into())
    }

    /// The seed's text for a caller who may see a pipe but not share it.
    pub fn no_sharing_permission(pipe: &str) -> Self {
        Error::Forbidden(format!("Permission denied: User lacks sharing permissions for pipe '{pipe}'"))
    }

    /// The one answer for a pipe that does not exist or that the caller may not see.
    pub fn pipe_not_found(pipe: &str) -> Self {
        Error::NotFound(format!("Pipe '{pipe}' not found"))
    }

    /// Two writes racing past an existence check meet the unique index; say so plainly.
    pub fn unique_violation(err: sea_orm::DbErr, message: impl FnOnce() -> String) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(message()),
            _ => err.into(),
        }
    }

    /// The HTTP status of this error (the HTTP doors answer with it; the CLI's exit code
    /// says the same kind).
    pub fn http_status(&self) -> u16 {
        match self {
            Error::BadRequest(_) => 400,
            Error::Unauthorized(_) => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::MethodNotAllowed(_) => 405,
            Error::Conflict(_) => 409,
            Error::Gone(_) => 410,
            Error::TooLarge(_) => 413,
            Error::TooManyRequests(..) => 429,
            Error::Internal(_) => 500,
        }
    }

    /// The text shown to the caller: internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            Error::Internal(_) => "Internal error; the server log has the details".into(),
            other => other.to_string(),
        }
    }
}
