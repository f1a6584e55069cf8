//! The clerk's page (`GET /`): B/S, served by the same binary. One self-contained HTML document —
//! the template `api/templates/clerk.html` with `api/static/clerk.css` and `clerk.js` inlined —
//! so that the page needs no other route and works wherever the API does. It calls the API from
//! the browser (`/v1/qa`, `/v1/agents`, the session endpoints); its `data-testid` hooks are the
//! contract's ("The production service").

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;

const TEMPLATE: &str = "clerk.html";

/// The template, parsed once; a parse error is kept (and logged on each request) rather than
/// panicking, so that a broken page never takes the API down with it.
fn tera() -> &'static Result<tera::Tera, String> {
    static TERA: OnceLock<Result<tera::Tera, String>> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut t = tera::Tera::default();
        t.add_raw_template(TEMPLATE, include_str!("../../templates/clerk.html"))
            .map_err(|e| format!("{e:?}"))?;
        Ok(t)
    })
}

/// The page, with `nonce` on its inline style and script and `today` as the default 依据日期.
fn render(today: &str, nonce: &str) -> Result<String, String> {
    let t = tera().as_ref().map_err(Clone::clone)?;
    let mut ctx = tera::Context::new();
    ctx.insert("today", today);
    ctx.insert("nonce", nonce);
    ctx.insert("style", include_str!("../../static/clerk.css"));
    ctx.insert("script", include_str!("../../static/clerk.js"));
    t.render(TEMPLATE, &ctx).map_err(|e| format!("{e:?}"))
}

/// The page's Content-Security-Policy: only its own nonce-carrying style and script run, and it
/// talks to this origin only — a second fence behind the script's textContent-only rendering of
/// server text.
fn csp(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
         connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// `GET /`.
pub async fn index(State(st): State<AppState>) -> Response {
    // The service's clock (`--today`), so that a test or training stack asks about the day it
    // lives in; the clerk can change it.
    let today = st.engine.today().format("%Y-%m-%d").to_string();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    match render(&today, &nonce) {
        Ok(html) => {
            let mut resp = Html(html).into_response();
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&csp(&nonce)) {
                h.insert(header::CONTENT_SECURITY_POLICY, v);
            }
            // The nonce is per response, so no cache may hand this body out again.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "the clerk page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><meta charset=\"utf-8\"><title>智办</title><p>页面生成失败，请联系管理员。</p>"),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_renders_with_every_contract_hook_and_its_nonce() {
        let html = render("2026-11-15", "abc123").unwrap();
        for hook in [
            "question",
            "as-of",
            "ask",
            "answer",
            "citation-text",
            "agent-select",
            "message",
            "send",
            "upload",
            "session-state",
        ] {
            assert!(
                html.contains(&format!("data-testid=\"{hook}\"")),
                "hook {hook} missing"
            );
        }
        // Hooks made per item by the script.
        for hook in ["\"citation\"", "\"warning\"", "\"reply\""] {
            assert!(html.contains(&format!("testid = {hook}")), "{hook} missing");
        }
        assert!(html.contains("value=\"2026-11-15\""));
        assert!(html.contains("<script nonce=\"abc123\">"));
        assert!(html.contains("<style nonce=\"abc123\">"));
        // The script is inserted verbatim, not HTML-escaped.
        assert!(html.contains("a.id === \"qa\""));
        assert!(!html.contains("{{"), "unrendered template syntax");
    }

    #[test]
    fn the_script_never_puts_server_text_in_as_html() {
        let js = include_str!("../../static/clerk.js");
        for banned in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
        ] {
            assert!(!js.contains(banned), "{banned} in clerk.js");
        }
    }
}
