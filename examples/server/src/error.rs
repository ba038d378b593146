//! The one place where errors become HTTP: every [`ErrorCode`] has one status, and every error
//! body is `{"code": …, "message": …}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kefu::ErrorCode;

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    /// Stable machine code.
    pub code: ErrorCode,
    /// Human-readable detail (never secrets or PII of other tenants).
    pub message: String,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// A malformed request.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"code": self.code, "message": self.message})
    }
}

/// The HTTP status of each code: 4xx for everything a client can cause.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidInput | ErrorCode::BotInvalid => StatusCode::BAD_REQUEST,
        ErrorCode::InputTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::UnknownTenant
        | ErrorCode::UnknownBotVersion
        | ErrorCode::ConversationNotFound
        | ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::ConversationBusy => StatusCode::CONFLICT,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::StoreUnavailable | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ActionFailed | ErrorCode::KbFailed | ErrorCode::NluFailed => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<kefu::Error> for ApiError {
    fn from(e: kefu::Error) -> Self {
        let code = e.code();
        if status_of(code).is_server_error() {
            tracing::error!(code = %code, error = %e, "request failed");
        }
        Self::new(code, e.to_string())
    }
}

impl From<kefu::core::Error> for ApiError {
    fn from(e: kefu::core::Error) -> Self {
        kefu::Error::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(self.code);
        let mut response = (status, axum::Json(self.body())).into_response();
        if matches!(self.code, ErrorCode::ConversationBusy | ErrorCode::RateLimited | ErrorCode::Unavailable) {
            response.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_a_client_can_cause_is_a_4xx() {
        for code in ErrorCode::ALL {
            let status = status_of(code);
            let client_caused = matches!(
                code,
                ErrorCode::InvalidInput
                    | ErrorCode::BotInvalid
                    | ErrorCode::InputTooLarge
                    | ErrorCode::Unauthorized
                    | ErrorCode::Forbidden
                    | ErrorCode::UnknownTenant
                    | ErrorCode::UnknownBotVersion
                    | ErrorCode::ConversationNotFound
                    | ErrorCode::NotFound
                    | ErrorCode::ConversationBusy
                    | ErrorCode::RateLimited
            );
            assert_eq!(status.is_client_error(), client_caused, "{code} -> {status}");
        }
    }
}
