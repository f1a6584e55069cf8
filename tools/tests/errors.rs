//! A line system that echoes the request's plaintext PII in its error bodies (REST) and
//! faultstrings (SOAP): neither the error the runtime returns (Display, Debug, serde) nor anything
//! it logs carries that plaintext. Echoed values come back sealed as tokens of the call's session
//! (business refusals, whose message is for the resident) or are dropped (server errors).

mod common;

use common::*;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zhiban_tools::{Error, Transport};

/// Every log line written while the guard lives, at every level, from every crate.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn assert_no_plaintext(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "{what} leaks {s}: {text}");
    }
    // Also nothing the detector would call PII.
    assert!(zhiban_pii::detect(text).is_empty(), "{what}: {text}");
}

async fn echoing_line_system(transport: Transport) {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    // A current-thread test: casesim, the client and the runtime all log through this guard.
    let _guard = tracing::subscriber::set_default(subscriber);
    let e = env(transport, |s| {
        s.read_retries = 1;
        s.write_retries = 1;
        s.backoff_base = Duration::from_millis(1);
    })
    .await;
    let (id, name, mobile, _) = resident(&e.sim, 33).await;
    let secrets = [id.as_str(), name.as_str(), mobile.as_str()];
    let c = ctx("echo");
    for (fault, tool, plain) in [
        (
            "echo",
            "applicant_verify",
            json!({"name": name, "id_number": id}),
        ),
        (
            "echo",
            "zhinei_submit",
            json!({"name": name, "id_number": id, "mobile": mobile}),
        ),
        (
            "echo_client",
            "applicant_verify",
            json!({"name": name, "id_number": id}),
        ),
        (
            "echo_client",
            "zhinei_submit",
            json!({"name": name, "id_number": id, "mobile": mobile}),
        ),
    ] {
        e.sim.set_faults(Some(fault)).unwrap();
        e.sim.clear_requests();
        let args = tokenize(&e.rt, &c, tool, plain);
        let err = e.rt.invoke(&c, tool, args).await.unwrap_err();
        // The line system really echoed the plaintext.
        let log = e.sim.requests();
        assert!(
            !log.is_empty() && log.iter().all(|r| r.outcome == "echo"),
            "{fault}"
        );
        assert!(log[0].body.contains(&id), "casesim received plaintext");
        let what = format!("{transport:?} {fault} {tool}");
        let serde = serde_json::to_value(&err).unwrap();
        for text in [err.to_string(), format!("{err:?}"), serde.to_string()] {
            assert_no_plaintext(&what, &text, &secrets);
        }
        assert_eq!(serde["code"], err.code());
        match (fault, &err) {
            ("echo", Error::Unavailable { detail, .. }) => {
                // Dropped: only the status and the line system's code are kept.
                assert!(detail.contains("FAULT_ECHO"), "{what}: {detail}");
                assert!(!detail.contains("⟦PII"), "{what}: {detail}");
            }
            ("echo_client", Error::Business { code, message, .. }) => {
                assert_eq!(code, "FAULT_ECHO");
                // Sealed for this session: the resident-facing text survives, the values are tokens.
                assert!(message.contains("请求时出错"), "{what}: {message}");
                assert!(message.contains("⟦PII:NAME:"), "{what}: {message}");
                assert!(message.contains("⟦PII:ID_CARD:"), "{what}: {message}");
                let opened = e.rt.vault().detokenize_text(&c.scope(), message).unwrap();
                assert!(opened.contains(name.as_str()) && opened.contains(id.as_str()));
                assert!(
                    e.rt.vault()
                        .detokenize_text(&ctx("other").scope(), message)
                        .is_err_and(|e| matches!(e, zhiban_pii::Error::InvalidToken))
                );
            }
            _ => panic!("{what}: unexpected {err:?}"),
        }
    }
    e.sim.set_faults(None).unwrap();
    let logged = logs.text();
    assert!(
        logged.contains("line system attempt failed"),
        "the capture works and saw the retries: {logged}"
    );
    assert_no_plaintext("logs", &logged, &secrets);
    e.sim.stop().await;
}

#[tokio::test]
async fn errors_over_rest_carry_no_plaintext() {
    echoing_line_system(Transport::Rest).await;
}

#[tokio::test]
async fn errors_over_soap_carry_no_plaintext() {
    echoing_line_system(Transport::Soap).await;
}
