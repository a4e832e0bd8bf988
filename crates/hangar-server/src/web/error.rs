//! What a web page answers when it refuses or fails: a page, never a JSON dump or a stack.

use super::render::message_page;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum WebError {
    #[error("{0}")]
    BadRequest(String),
    /// The form's CSRF token is missing or wrong.
    #[error("this form has expired or did not come from this site")]
    Csrf,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The page needs a signed-in user: go to the sign-in page, then back to `next`.
    #[error("sign in first")]
    SignIn { next: String },
    #[error("{0}")]
    Internal(String),
}

pub type WebResult<T> = Result<T, WebError>;

impl From<hangar_store::Error> for WebError {
    fn from(e: hangar_store::Error) -> Self {
        use crate::catalog::error::{StoreFault as F, store_fault};
        match store_fault(e) {
            F::NotFound(what) => WebError::NotFound(what),
            F::Conflict(why) | F::Invalid(why) => WebError::BadRequest(why),
            F::NoSpace(why) | F::Internal(why) => WebError::Internal(why),
        }
    }
}

impl From<hangar_core::Error> for WebError {
    fn from(e: hangar_core::Error) -> Self {
        WebError::BadRequest(e.to_string())
    }
}

impl From<crate::catalog::error::DomainError> for WebError {
    fn from(e: crate::catalog::error::DomainError) -> Self {
        use crate::catalog::error::DomainError as D;
        match e {
            D::NotFound(why) => WebError::NotFound(why),
            D::Unauthenticated => WebError::Forbidden("sign in first".into()),
            D::Forbidden(why) => WebError::Forbidden(why),
            D::Invalid(why) | D::Conflict(why) | D::TooLarge(why) => WebError::BadRequest(why),
            D::Store(e) => e.into(),
            D::Internal(why) => WebError::Internal(why),
        }
    }
}

impl From<crate::identity::error::IdentityError> for WebError {
    fn from(e: crate::identity::error::IdentityError) -> Self {
        use crate::identity::error::IdentityError as I;
        match e {
            I::Invalid(why) => WebError::BadRequest(why),
            I::NotFound(why) => WebError::NotFound(why),
            I::Forbidden(why) => WebError::Forbidden(why),
            I::WrongCredentials | I::Throttled(_) => WebError::Forbidden(e.to_string()),
            I::Internal(why) => WebError::Internal(why),
            I::Store(e) => e.into(),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, text) = match &self {
            WebError::SignIn { next } => {
                let target = format!("/signin?next={}", super::forms::encode(next));
                return (StatusCode::SEE_OTHER, [(LOCATION, target)]).into_response();
            }
            WebError::BadRequest(why) => (StatusCode::BAD_REQUEST, "That did not work", why.clone()),
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form has expired or did not come from this site. Go back, reload the page and try again.".into(),
            ),
            WebError::Forbidden(why) => (StatusCode::FORBIDDEN, "Not allowed", why.clone()),
            WebError::NotFound(why) => (StatusCode::NOT_FOUND, "Not found", why.clone()),
            WebError::Internal(why) => {
                tracing::error!(error = %why, "web page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not answer this page. Try again in a moment; if it keeps happening, tell your administrator.".into(),
                )
            }
        };
        let mut response = message_page(title, &text, Some(("/", "Back to Hangar")));
        *response.status_mut() = status;
        response
    }
}
