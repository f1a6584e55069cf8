//! The clerk's page (`GET /`): B/S, served by the same binary. (Being written.)

use axum::response::{Html, IntoResponse, Response};

/// `GET /`.
pub async fn index() -> Response {
    Html("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>智办</title><p>智办</p></html>").into_response()
}
