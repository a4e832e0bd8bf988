//! Extractors whose rejections are NGC JSON errors instead of axum's plain text.

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// JSON in (with NGC errors for bad bodies) and JSON out.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(ApiError))]
pub struct Form<T>(pub T);

/// NGC's page parameters (`page-size`, `page-number`, zero-based).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Page {
    #[serde(rename = "page-size", default = "default_page_size")]
    pub size: usize,
    #[serde(rename = "page-number", default)]
    pub number: usize,
}

fn default_page_size() -> usize {
    100
}

const MAX_PAGE_SIZE: usize = 1000;

impl Page {
    /// One page of `items` and NGC's `paginationInfo` for it.
    pub fn slice<T>(self, items: Vec<T>) -> (Vec<T>, serde_json::Value) {
        let size = self.size.clamp(1, MAX_PAGE_SIZE);
        let total = items.len();
        let pages = total.div_ceil(size);
        let page: Vec<T> = items
            .into_iter()
            .skip(self.number.saturating_mul(size))
            .take(size)
            .collect();
        let info = serde_json::json!({
            "index": self.number,
            "size": size,
            "totalResults": total,
            "totalPages": pages,
        });
        (page, info)
    }
}
