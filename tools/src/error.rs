//! Errors of the tool layer, with messages a resident or clerk can understand.

use zhiban_pii::PiiKind;

/// Everything that can go wrong when calling a tool.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No tool with that id or name.
    #[error("没有名为“{name}”的办事工具")]
    UnknownTool {
        /// What was asked for.
        name: String,
    },
    /// Arguments do not match the tool's schema.
    #[error("“{tool}”的参数不正确：{reason}")]
    InvalidArguments {
        /// Tool name.
        tool: String,
        /// What is wrong, in Chinese.
        reason: String,
    },
    /// A PII field arrived as plaintext instead of a token.
    #[error("个人信息字段“{field}”必须以加密令牌传入，不能直接传明文")]
    PlaintextPii {
        /// Field path.
        field: String,
    },
    /// A PII token did not open (wrong session, tampered, truncated, or not a token).
    #[error("个人信息令牌无效或不属于当前会话（字段“{field}”），请重新获取")]
    InvalidToken {
        /// Field path.
        field: String,
    },
    /// A token opened but holds another kind of information than the field expects.
    #[error("字段“{field}”需要{expected}，但传入的令牌是{found}")]
    WrongPiiKind {
        /// Field path.
        field: String,
        /// Expected kind label.
        expected: &'static str,
        /// Found kind label.
        found: &'static str,
    },
    /// The line system answered with a business error (not retried).
    #[error("{message}")]
    Business {
        /// Line system id.
        system: String,
        /// Stable code from the line system.
        code: String,
        /// Chinese message from the line system.
        message: String,
    },
    /// The line system did not answer in time.
    #[error("{}响应超时，请稍后再试", crate::registry::line_system_name(system))]
    Timeout {
        /// Line system id.
        system: String,
    },
    /// The line system could not be reached or answered with a server error.
    #[error(
        "{}暂时无法访问，请稍后再试",
        crate::registry::line_system_name(system)
    )]
    Unavailable {
        /// Line system id.
        system: String,
        /// HTTP status, when there was one.
        status: Option<u16>,
        /// Technical detail for logs (status, the line system's error code), never its raw body.
        detail: String,
    },
    /// The circuit breaker for the line system is open.
    #[error(
        "{}近期多次调用失败，已暂停调用，请稍后再试",
        crate::registry::line_system_name(system)
    )]
    CircuitOpen {
        /// Line system id.
        system: String,
    },
    /// The line system answered with something we cannot read.
    #[error(
        "{}返回的内容无法识别，请联系系统管理员",
        crate::registry::line_system_name(system)
    )]
    Protocol {
        /// Line system id.
        system: String,
        /// What could not be read, in our own words (never the raw body).
        detail: String,
    },
    /// A line system's configuration is unusable.
    #[error("“{system}”业务系统的接入配置有误：{reason}")]
    Config {
        /// Line system id.
        system: String,
        /// What is wrong, in Chinese.
        reason: String,
    },
    /// No line system configured for a tool.
    #[error("尚未配置“{system}”业务系统的接入地址")]
    NotConfigured {
        /// Line system id.
        system: String,
    },
    /// The audit log could not be written, so the operation was stopped.
    #[error("审计日志写入失败，操作已中止")]
    Audit(#[source] zhiban_pii::Error),
    /// Sealing or opening PII failed for a reason other than a bad token.
    #[error("个人信息加解密失败")]
    Pii(#[source] zhiban_pii::Error),
    /// JSON could not be read.
    #[error("JSON 格式不正确：{0}")]
    Json(#[from] serde_json::Error),
    /// Building the HTTP client failed.
    #[error("无法创建网络客户端：{0}")]
    Client(#[source] reqwest::Error),
    /// A blocking key provider (KMS, cipher machine) did not answer within the deadline.
    #[error("密钥服务在 {ms} 毫秒内未响应，请稍后再试")]
    KeyProviderTimeout {
        /// The deadline.
        ms: u64,
    },
}

impl Error {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnknownTool { .. } => "unknown_tool",
            Error::InvalidArguments { .. } => "invalid_arguments",
            Error::PlaintextPii { .. } => "plaintext_pii",
            Error::InvalidToken { .. } => "invalid_token",
            Error::WrongPiiKind { .. } => "wrong_pii_kind",
            Error::Business { .. } => "business",
            Error::Timeout { .. } => "timeout",
            Error::Unavailable { .. } => "unavailable",
            Error::CircuitOpen { .. } => "circuit_open",
            Error::Protocol { .. } => "protocol",
            Error::NotConfigured { .. } => "not_configured",
            Error::Config { .. } => "config",
            Error::Audit(_) => "audit",
            Error::Pii(_) => "pii",
            Error::Json(_) => "json",
            Error::Client(_) => "client",
            Error::KeyProviderTimeout { .. } => "key_provider_timeout",
        }
    }

    /// Whether another attempt may succeed (timeouts, 5xx, connection failures).
    pub fn retryable(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::Unavailable { .. })
    }
}

/// `{"code", "message"}`, the shape of the API's error bodies. Technical details (`detail`,
/// statuses) stay out: they are for logs, and even there they carry no plaintext PII.
impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Error", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

/// A kind's label (helper for [`Error::WrongPiiKind`]).
pub(crate) fn kind_label(k: PiiKind) -> &'static str {
    k.label_zh()
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
